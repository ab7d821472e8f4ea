import { sql } from 'drizzle-orm';
import { KV_EVENTS, kvValueFitsEvent } from '../../kv/events.js';
import type { JsonValue } from '../../kv/types.js';
import type { ChangeContext, KvWrite } from '../ports.js';
import type { PgDb } from './db.js';
import { appendSelectedEvents } from './event-append.js';
import { kvEventDataSql } from './event-sql.js';
import { upsertAssignments } from './kv-store-sql.js';
import { jsonb, rowsOf, timestamptz } from './sql-helpers.js';

/** Import writes at most this many entries, or about this many bytes, per statement. */
const IMPORT_CHUNK_ENTRIES = 1000;
const IMPORT_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Upserts many entries in one transaction, a chunk per statement, each write with its `kv.set`
 * event (in line order). Answers how many keys were new (or replaced an expired entry) and how
 * many were updated.
 *
 * @example
 * const { created, updated } = await importKvEntries(db, entries, new Date(), change);
 */
export async function importKvEntries(
  db: PgDb,
  entries: readonly KvWrite[],
  now: Date,
  change: ChangeContext,
): Promise<{ created: number; updated: number }> {
  // Upserting one key twice in a statement is an error in PostgreSQL; the last line wins.
  const unique = [...new Map(entries.map((entry) => [entry.key, entry])).values()];
  return db.transaction(async (tx) => {
    let created = 0;
    let updated = 0;
    for (const chunk of chunksOf(unique)) {
      // The whole chunk travels as one JSON parameter; `e -> 'value'` keeps a JSON null
      // as jsonb 'null' (a record-typed expansion would turn it into SQL NULL). Each line
      // carries its event's id; events are appended in line order (ORDER BY ordinality).
      const elements = chunk.map((entry) => importElement(entry, change.ids.next('evt')));
      const rows = rowsOf<{ created: number | string; updated: number | string }>(
        await tx.execute(sql`
          WITH lines AS (
            SELECT e, n FROM jsonb_array_elements(${jsonb(elements)}) WITH ORDINALITY AS x(e, n)
          ), w AS (
            INSERT INTO kv_entries (key, value, version, tags, expires_at, created_at, updated_at)
            SELECT e ->> 'key', e -> 'value', 1, e -> 'tags', (e ->> 'expiresAt')::timestamptz,
                   ${timestamptz(now)}, ${timestamptz(now)}
            FROM lines
            ON CONFLICT (key) DO UPDATE SET ${upsertAssignments(now)}
            RETURNING key, value, version, tags, expires_at
          ), logged AS (${appendSelectedEvents(sql`
            SELECT lines.e ->> 'eventId', ${KV_EVENTS.set}, w.key,
                   CASE WHEN (lines.e ->> 'fits')::boolean THEN ${kvEventDataSql('include')}
                        ELSE ${kvEventDataSql('omit')} END,
                   ${change.actor}, ${timestamptz(now)}, lines.n
            FROM w JOIN lines ON lines.e ->> 'key' = w.key`)})
          SELECT count(*) FILTER (WHERE version = 1)::int AS created,
                 count(*) FILTER (WHERE version > 1)::int AS updated
          FROM w`),
      );
      // Version 1 after the write means the key was new, or replaced an expired entry.
      created += Number(rows[0]?.created ?? 0);
      updated += Number(rows[0]?.updated ?? 0);
    }
    return { created, updated };
  });
}

function importElement(entry: KvWrite, eventId: string): Record<string, JsonValue> {
  return {
    key: entry.key,
    value: entry.value,
    tags: entry.tags,
    expiresAt: entry.expiresAt?.toISOString() ?? null,
    eventId,
    fits: kvValueFitsEvent(entry.value),
  };
}

function* chunksOf(entries: readonly KvWrite[]): Generator<KvWrite[]> {
  let chunk: KvWrite[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = JSON.stringify(entry.value).length;
    if (chunk.length > 0 && (chunk.length >= IMPORT_CHUNK_ENTRIES || bytes + size > IMPORT_CHUNK_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
