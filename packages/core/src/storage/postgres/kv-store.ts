import { and, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import { KV_EVENTS, kvValueFitsEvent } from '../../kv/events.js';
import type { JsonValue } from '../../kv/types.js';
import { newEvent, SYSTEM_CHANGE } from '../change-context.js';
import type { ChangeContext, KvChange, KvListQuery, KvRecord, KvStore, KvWrite } from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { kvEventDataSql } from './event-sql.js';
import { kvEntries } from './schema.js';
import { jsonb, parseJson, rowsOf, timestamptz, timestamptzOrNull, toDate, toDateOrNull } from './sql-helpers.js';

/** JSON is read back as text so top-level strings such as `"123"` survive both drivers. */
const RETURNING = sql.raw('key, value::text AS value, version, tags::text AS tags, expires_at, created_at, updated_at');
/** What a write CTE returns, raw, for its event and for the final {@link RETURNING}. */
const RAW_COLUMNS = sql.raw('RETURNING key, value, version, tags, expires_at, created_at, updated_at');

/** Import writes at most this many entries, or about this many bytes, per statement. */
const IMPORT_CHUNK_ENTRIES = 1000;
const IMPORT_CHUNK_BYTES = 8 * 1024 * 1024;

interface KvRow {
  key: string;
  value: string;
  version: number | string;
  tags: string;
  expires_at: unknown;
  created_at: unknown;
  updated_at: unknown;
}

function toRecord(row: KvRow): KvRecord {
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
const existingExpired = (now: Date): SQL =>
  sql`(kv_entries.expires_at IS NOT NULL AND kv_entries.expires_at <= ${timestamptz(now)})`;
/** The row is live at `now` (unqualified, for plain UPDATE/DELETE/SELECT). */
const live = (now: Date): SQL => sql`(expires_at IS NULL OR expires_at > ${timestamptz(now)})`;

/**
 * The key-value store on PostgreSQL (either driver). Every operation is one statement, so it
 * is atomic without an explicit transaction; expired rows are treated as absent by every
 * statement (the current time is a bound parameter), whether or not they were swept.
 * A single-key write and its event are one statement too (a data-modifying CTE): the event
 * row exists exactly when the write happened, at no extra round trip.
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
    return row ? toRecord(row) : null;
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

  async list(query: KvListQuery, now: Date): Promise<KvRecord[]> {
    const conditions = [live(now)];
    // The keys starting with a prefix are exactly the range [prefix, next prefix) in "C" order.
    // Written as a range rather than `LIKE $1 || '%'` because a prepared statement's generic
    // plan cannot turn a parameterised LIKE into an index range: it would walk the whole
    // primary key. A range is an index condition in every plan.
    if (query.prefix) {
      conditions.push(sql`key >= ${query.prefix} AND key < ${nextPrefix(query.prefix)}`);
    }
    // Containment is what the GIN (jsonb_path_ops) index on tags serves.
    if (query.tag !== undefined) conditions.push(sql`tags @> ${jsonb([query.tag])}`);
    if (query.afterKey !== undefined) conditions.push(sql`key > ${query.afterKey}`);
    const result = await this.db.execute(sql`
      SELECT ${RETURNING} FROM kv_entries
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY key
      LIMIT ${query.limit}`);
    return rowsOf<KvRow>(result).map(toRecord);
  }

  async importEntries(
    entries: readonly KvWrite[],
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<{ created: number; updated: number }> {
    // Upserting one key twice in a statement is an error in PostgreSQL; the last line wins.
    const unique = [...new Map(entries.map((entry) => [entry.key, entry])).values()];
    return this.db.transaction(async (tx) => {
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
            ), logged AS (
              INSERT INTO events (id, type, subject, data, actor, at)
              SELECT lines.e ->> 'eventId', ${KV_EVENTS.set}, w.key,
                     CASE WHEN (lines.e ->> 'fits')::boolean THEN ${kvEventDataSql('include')}
                          ELSE ${kvEventDataSql('omit')} END,
                     ${change.actor}, ${timestamptz(now)}
              FROM w JOIN lines ON lines.e ->> 'key' = w.key
              ORDER BY lines.n
            )
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

  async deleteExpired(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<string[]> {
    // Several nodes run the sweeper at once: SKIP LOCKED lets each take a different batch
    // instead of queueing behind another's row locks (or deleting the same rows twice).
    // Oldest expiry first, served by the partial index on expires_at. The sweeper is not a
    // hot path: its `kv.expired` events are written in a plain transaction.
    return this.db.transaction(async (tx) => {
      const rows = rowsOf<KvRow>(
        await tx.execute(sql`
          DELETE FROM kv_entries
          WHERE key IN (
            SELECT key FROM kv_entries
            WHERE expires_at <= ${timestamptz(now)}
            ORDER BY expires_at
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
          ) AND expires_at <= ${timestamptz(now)}
          RETURNING ${RETURNING}`),
      );
      const records = rows.map(toRecord);
      await appendEvents(
        tx,
        records.map((record) =>
          newEvent(
            change,
            KV_EVENTS.expired,
            record.key,
            {
              key: record.key,
              version: record.version,
              tags: record.tags,
              expiresAt: record.expiresAt?.toISOString() ?? null,
            },
            now,
          ),
        ),
      );
      return records.map((record) => record.key);
    });
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
        logged AS (
          INSERT INTO events (id, type, subject, data, actor, at)
          SELECT ${event.change.ids.next('evt')}, ${event.type}, w.key, ${kvEventDataSql(event.value)},
                 ${event.change.actor}, ${timestamptz(event.now)}
          FROM w
        )
        SELECT ${RETURNING} FROM w`),
    )[0];
    return row ? toRecord(row) : null;
  }
}

/** Whether a written value travels in its event. */
function valueMode(value: JsonValue): 'include' | 'omit' {
  return kvValueFitsEvent(value) ? 'include' : 'omit';
}

/**
 * The ON CONFLICT assignments of an upsert: everything comes from the new entry; a live row
 * moves to the next version and keeps its creation time, an expired one starts again.
 */
function upsertAssignments(now: Date): SQL {
  return sql`
    value = excluded.value, tags = excluded.tags, expires_at = excluded.expires_at,
    version = CASE WHEN ${existingExpired(now)} THEN 1 ELSE kv_entries.version + 1 END,
    created_at = CASE WHEN ${existingExpired(now)} THEN excluded.created_at ELSE kv_entries.created_at END,
    updated_at = excluded.updated_at`;
}

/** The smallest string above every string starting with `prefix` (keys are ASCII, so no overflow). */
function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function versionCondition(expectedVersion: number | undefined): SQL {
  return expectedVersion === undefined ? sql`` : sql`AND version = ${expectedVersion}`;
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
