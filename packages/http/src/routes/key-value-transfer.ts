/**
 * Listing, NDJSON export and NDJSON import of key-value entries. All three see only what
 * the caller's `kv:*` scopes allow: lists and exports drop invisible keys, an import with
 * one key the caller may not write is refused as a whole.
 */
import {
  authorize,
  type Core,
  can,
  KV_KEY_PATTERN,
  type KvEntry,
  kvListOptionsSchema,
  type Principal,
} from '@proserver/core';
import type { Context } from 'hono';
import { parseJson, readBodyText } from '../body.js';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';
import { readQuery } from '../query.js';

export const NDJSON = 'application/x-ndjson';

const exportQuerySchema = kvListOptionsSchema.omit({ cursor: true, limit: true });

/** True when the client asked for the NDJSON export of the list route. */
export function wantsNdjson(c: Context<AppEnv>): boolean {
  return (c.req.header('accept') ?? '').toLowerCase().includes(NDJSON);
}

function visibleTo(principal: Principal): (key: string) => boolean {
  return (key) => can(principal, 'kv:read', key);
}

/** `GET /key-value?prefix=&tag=&cursor=&limit=` → `{items, nextCursor}`. */
export async function listEntries(c: Context<AppEnv>, core: Core): Promise<Response> {
  const principal = c.get('principal');
  authorize(principal, 'kv:read');
  const query = readQuery(c, kvListOptionsSchema);
  return c.json(await core.kv.list({ ...query, visible: visibleTo(principal) }));
}

/**
 * `GET /key-value` with `Accept: application/x-ndjson`: every matching entry, one JSON per
 * line, streamed page by page. The first entry is fetched before answering, so a failing
 * storage is still a clean 500 problem; a failure later can only cut the stream short (it is
 * logged).
 */
export async function exportEntries(c: Context<AppEnv>, core: Core, options: ResolvedAppOptions): Promise<Response> {
  const principal = c.get('principal');
  authorize(principal, 'kv:read');
  const query = readQuery(c, exportQuerySchema);
  const iterator = core.kv.export({ ...query, visible: visibleTo(principal) })[Symbol.asyncIterator]();
  let pending: IteratorResult<KvEntry> | undefined = await iterator.next();
  const encoder = new TextEncoder();
  const requestId = c.get('requestId');

  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const result = pending ?? (await iterator.next());
        pending = undefined;
        if (result.done) controller.close();
        else controller.enqueue(encoder.encode(`${JSON.stringify(result.value)}\n`));
      } catch (error) {
        options.logger.error('key-value export failed while streaming', {
          requestId,
          error: error instanceof Error ? error.message : String(error),
        });
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return c.body(stream, 200, { 'Content-Type': NDJSON, 'Cache-Control': 'no-store' });
}

/**
 * `POST /key-value/import` with an NDJSON body → `{created, updated, skipped}`. Blank lines
 * are ignored; a line that is not JSON is a 400 naming it (1-based, as an editor counts);
 * every key must be writable by the caller, else 403 and nothing is written. Core validates
 * the lines and writes them in one transaction.
 */
export async function importEntries(c: Context<AppEnv>, core: Core, options: ResolvedAppOptions): Promise<Response> {
  const principal = c.get('principal');
  authorize(principal, 'kv:write');
  const text = await readBodyText(c, { mediaType: NDJSON, maxBytes: options.maxImportBytes });
  const lines: unknown[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    lines.push(parseJson(line, `line ${index + 1}`));
  });
  for (const line of lines) {
    const key = typeof line === 'object' && line !== null ? (line as { key?: unknown }).key : undefined;
    // Lines without a valid key are left to core's validation (a 400 listing every one of them).
    if (typeof key === 'string' && KV_KEY_PATTERN.test(key)) authorize(principal, 'kv:write', key);
  }
  return c.json(await core.kv.import(lines, { actor: principal }));
}
