/**
 * What the key-value statements share: the columns they return and how a row becomes a
 * record, the liveness conditions (an expired row is absent, swept or not) and the upsert
 * assignments.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { JsonValue } from '../../kv/types.js';
import type { KvRecord } from '../ports.js';
import { parseJson, timestamptz, toDate, toDateOrNull } from './sql-helpers.js';

/** JSON is read back as text so top-level strings such as `"123"` survive both drivers. */
export const RETURNING = sql.raw(
  'key, value::text AS value, version, tags::text AS tags, expires_at, created_at, updated_at',
);

export interface KvRow {
  key: string;
  value: string;
  version: number | string;
  tags: string;
  expires_at: unknown;
  created_at: unknown;
  updated_at: unknown;
}

export function toKvRecord(row: KvRow): KvRecord {
  return {
    key: row.key,
    value: parseJson<JsonValue>(row.value),
    version: Number(row.version),
    tags: parseJson<string[]>(row.tags),
    expiresAt: toDateOrNull(row.expires_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** `kv_entries.expires_at <= now`: the existing row (in an ON CONFLICT clause) is expired. */
export const existingExpired = (now: Date): SQL =>
  sql`(kv_entries.expires_at IS NOT NULL AND kv_entries.expires_at <= ${timestamptz(now)})`;
/** The row is live at `now` (unqualified, for plain UPDATE/DELETE/SELECT). */
export const live = (now: Date): SQL => sql`(expires_at IS NULL OR expires_at > ${timestamptz(now)})`;

/**
 * The ON CONFLICT assignments of an upsert: everything comes from the new entry; a live row
 * moves to the next version and keeps its creation time, an expired one starts again.
 */
export function upsertAssignments(now: Date): SQL {
  return sql`
    value = excluded.value, tags = excluded.tags, expires_at = excluded.expires_at,
    version = CASE WHEN ${existingExpired(now)} THEN 1 ELSE kv_entries.version + 1 END,
    created_at = CASE WHEN ${existingExpired(now)} THEN excluded.created_at ELSE kv_entries.created_at END,
    updated_at = excluded.updated_at`;
}
