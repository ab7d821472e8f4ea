import type { Page } from './types.js';

/**
 * Walks a paginated list page by page, following `nextCursor` until it is null.
 *
 * @example
 * for await (const page of paginate((cursor) => client.kv.list({ prefix: 'a/', cursor }))) console.log(page.items.length);
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  firstCursor?: string,
): AsyncGenerator<Page<T>> {
  let cursor = firstCursor;
  while (true) {
    const page = await fetchPage(cursor);
    yield page;
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}
