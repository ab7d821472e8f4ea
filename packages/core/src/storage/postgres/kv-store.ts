import { and, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import { KV_EVENTS, kvValueFitsEvent } from '../../kv/events.js';
import type { JsonValue } from '../../kv/types.js';
import { SYSTEM_CHANGE } from '../change-context.js';
import type { ChangeContext, KvChange, KvListQuery, KvRecord, KvStore, KvWrite } from '../ports.js';
import type { PgDb } from './db.js';
import { appendSelectedEvents } from './event-append.js';
import { kvEventDataSql } from './event-sql.js';
import { deleteExpiredKvEntries } from './kv-store-expiry.js';
import { importKvEntries } from './kv-store-import.js';
import { listKvEntries } from './kv-store-list.js';
import { existingExpired, type KvRow, live, RETURNING, toKvRecord, upsertAssignments } from './kv-store-sql.js';
import { kvEntries } from './schema.js';
import { jsonb, rowsOf, timestamptz, timestamptzOrNull } from './sql-helpers.js';

/** What a write CTE returns, raw, for its event and for the final {@link RETURNING}. */
const RAW_COLUMNS = sql.raw('RETURNING key, value, version, tags, expires_at, created_at, updated_at');

/**
 * The key-value store on PostgreSQL (either driver). Every operation is one statement, so it
 * is atomic without an explicit transaction; expired rows are treated as absent by every
 * statement (the current time is a bound parameter), whether or not they were swept.
 * A single-key write and its event are one statement too (a data-modifying CTE): the event
 * row exists exactly when the write happened, at no extra round trip. Listing, import and the
 * expiry sweep: kv-store-list.ts, kv-store-import.ts, kv-store-expiry.ts; shared SQL: kv-store-sql.ts.
 *
 * @example
 * const store = new PgKvStore(db);
 * await store.upsert({ key: 'a', value: 1, tags: [], expiresAt: null }, new Date());
 */
export class PgKvStore implements KvStore {
  /**
   * The read of every GET, built once: a drizzle prepared query only fills in its parameters,
   * where a `sql` template is rebuilt into a query string on each call (a measurable share
   * of a cached read's CPU).
   */
  private readonly getLive;

  constructor(private readonly db: PgDb) {
    this.getLive = db
      .select({
        key: kvEntries.key,
        value: sql<string>`${kvEntries.value}::text`,
        version: kvEntries.version,
        tags: sql<string>`${kvEntries.tags}::text`,
        expires_at: kvEntries.expiresAt,
        created_at: kvEntries.createdAt,
        updated_at: kvEntries.updatedAt,
      })
      .from(kvEntries)
      .where(
        and(
          eq(kvEntries.key, sql.placeholder('key')),
          or(isNull(kvEntries.expiresAt), gt(kvEntries.expiresAt, sql`${sql.placeholder('now')}::timestamptz`)),
        ),
      )
      .prepare('kv_get_live');
  }

  async get(key: string, now: Date): Promise<KvRecord | null> {
    const [row] = await this.getLive.execute({ key, now: now.toISOString() });
    return row ? toKvRecord(row) : null;
  }

  async insert(entry: KvWrite, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<KvRecord | null> {
    // The conflict branch only fires over an expired row, which the new entry replaces from
    // version 1. Over a live row nothing is updated, so nothing is returned (and no event).
    return this.written(
      sql`
      INSERT INTO kv_entries (key, value, version, tags, expires_at, created_at, updated_at)
      VALUES (${entry.key}, ${jsonb(entry.value)}, 1, ${jsonb(entry.tags)}, ${timestamptzOrNull(entry.expiresAt)},
              ${timestamptz(now)}, ${timestamptz(now)})
      ON CONFLICT (key) DO UPDATE SET
        value = excluded.value, version = 1, tags = excluded.tags, expires_at = excluded.expires_at,
        created_at = excluded.created_at, updated_at = excluded.updated_at
      WHERE ${existingExpired(now)}`,
      { type: KV_EVENTS.set, value: valueMode(entry.value), change, now },
    );
  }

  async upsert(entry: KvWrite, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<KvRecord> {
    const record = await this.written(
      sql`
      INSERT INTO kv_entries (key, value, version, tags, expires_at, created_at, updated_at)
      VALUES (${entry.key}, ${jsonb(entry.value)}, 1, ${jsonb(entry.tags)}, ${timestamptzOrNull(entry.expiresAt)},
              ${timestamptz(now)}, ${timestamptz(now)})
      ON CONFLICT (key) DO UPDATE SET ${upsertAssignments(now)}`,
      { type: KV_EVENTS.set, value: valueMode(entry.value), change, now },
    );
    if (!record) throw new Error(`upsert of ${entry.key} returned no row`);
    return record;
  }

  async update(
    key: string,
    change: KvChange,
    expectedVersion: number | undefined,
    now: Date,
    context: ChangeContext = SYSTEM_CHANGE,
  ): Promise<KvRecord | null> {
    const assignments = [
      sql`value = ${jsonb(change.value)}`,
      sql`version = version + 1`,
      sql`updated_at = ${timestamptz(now)}`,
    ];
    if (change.tags !== undefined) assignments.push(sql`tags = ${jsonb(change.tags)}`);
    if (change.expiresAt !== undefined) assignments.push(sql`expires_at = ${timestamptzOrNull(change.expiresAt)}`);
    return this.written(
      sql`
      UPDATE kv_entries SET ${sql.join(assignments, sql`, `)}
      WHERE key = ${key} AND ${live(now)} ${versionCondition(expectedVersion)}`,
      { type: KV_EVENTS.set, value: valueMode(change.value), change: context, now },
    );
  }

  async delete(
    key: string,
    expectedVersion: number | undefined,
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<KvRecord | null> {
    return this.written(
      sql`
      DELETE FROM kv_entries
      WHERE key = ${key} AND ${live(now)} ${versionCondition(expectedVersion)}`,
      { type: KV_EVENTS.deleted, value: 'none', change, now },
    );
  }

  async increment(key: string, by: number, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<KvRecord | null> {
    // float8 arithmetic, not numeric: it is exactly JavaScript's (IEEE 754 double) addition,
    // so 0.1 + 0.2 gives the same number on every backend, and PostgreSQL prints a float8
    // with the shortest text that reads back as the same double.
    // The conflict branch runs under the row lock, so concurrent increments serialise.
    // A live non-number matches neither WHERE arm: no row comes back, and the caller says so.
    // So does a sum beyond the double range (checked exactly in numeric first), which float8
    // would raise as an error and JavaScript would turn into Infinity.
    const amount = sql`${by}::float8`;
    return this.written(
      sql`
      INSERT INTO kv_entries (key, value, version, tags, expires_at, created_at, updated_at)
      VALUES (${key}, to_jsonb(${amount}), 1, '[]'::jsonb, NULL, ${timestamptz(now)}, ${timestamptz(now)})
      ON CONFLICT (key) DO UPDATE SET
        value = CASE WHEN ${existingExpired(now)} THEN excluded.value
                     ELSE to_jsonb((kv_entries.value #>> '{}')::float8 + ${amount}) END,
        version = CASE WHEN ${existingExpired(now)} THEN 1 ELSE kv_entries.version + 1 END,
        tags = CASE WHEN ${existingExpired(now)} THEN excluded.tags ELSE kv_entries.tags END,
        expires_at = CASE WHEN ${existingExpired(now)} THEN NULL ELSE kv_entries.expires_at END,
        created_at = CASE WHEN ${existingExpired(now)} THEN excluded.created_at ELSE kv_entries.created_at END,
        updated_at = excluded.updated_at
      WHERE ${existingExpired(now)}
         OR (jsonb_typeof(kv_entries.value) = 'number'
             AND abs((kv_entries.value #>> '{}')::numeric + ${by}::numeric) <= ${Number.MAX_VALUE}::numeric)`,
      { type: KV_EVENTS.set, value: 'include', change, now },
    );
  }

  list(query: KvListQuery, now: Date): Promise<KvRecord[]> {
    return listKvEntries(this.db, query, now);
  }

  importEntries(
    entries: readonly KvWrite[],
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<{ created: number; updated: number }> {
    return importKvEntries(this.db, entries, now, change);
  }

  deleteExpired(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<string[]> {
    return deleteExpiredKvEntries(this.db, now, limit, change);
  }

  /**
   * Runs a single-row write (without its RETURNING) and appends its event in the same
   * statement: the event is inserted from the CTE's rows, so no row means no event.
   */
  private async written(
    write: SQL,
    event: { type: string; value: 'include' | 'omit' | 'none'; change: ChangeContext; now: Date },
  ): Promise<KvRecord | null> {
    const row = rowsOf<KvRow>(
      await this.db.execute(sql`
        WITH w AS (${write} ${RAW_COLUMNS}),
        logged AS (${appendSelectedEvents(sql`
          SELECT ${event.change.ids.next('evt')}, ${event.type}, w.key, ${kvEventDataSql(event.value)},
                 ${event.change.actor}, ${timestamptz(event.now)}, 1
          FROM w`)})
        SELECT ${RETURNING} FROM w`),
    )[0];
    return row ? toKvRecord(row) : null;
  }
}

/** Whether a written value travels in its event. */
function valueMode(value: JsonValue): 'include' | 'omit' {
  return kvValueFitsEvent(value) ? 'include' : 'omit';
}

function versionCondition(expectedVersion: number | undefined): SQL {
  return expectedVersion === undefined ? sql`` : sql`AND version = ${expectedVersion}`;
}
