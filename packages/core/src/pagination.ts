import { ProServerError } from './errors.js';

/** One page of a keyset-paginated list. `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

/** Cursors are opaque to clients: base64url of a small JSON object the store understands. */
export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; anything else is a 400, never a 500. */
export function decodeCursor<T extends Record<string, unknown>>(
  cursor: string,
  isValid: (value: Record<string, unknown>) => value is T,
): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      if (isValid(record)) return record;
    }
  } catch {
    // fall through to the validation error below
  }
  throw new ProServerError('VALIDATION_FAILED', 'cursor is not valid for this list', {
    errors: [{ path: 'cursor', message: 'not a cursor returned by this list' }],
  });
}
