import { sql } from 'drizzle-orm';
import type { KvListQuery, KvRecord } from '../ports.js';
import type { PgDb } from './db.js';
import { type KvRow, live, RETURNING, toKvRecord } from './kv-store-sql.js';
import { jsonb, rowsOf } from './sql-helpers.js';

/**
 * The live entries matching a key-value list query, in key order: one statement, served by the
 * primary key (prefix, cursor) or the GIN index on tags.
 *
 * @example
 * const page = await listKvEntries(db, { prefix: 'runs/', limit: 100 }, new Date());
 */
export async function listKvEntries(db: PgDb, query: KvListQuery, now: Date): Promise<KvRecord[]> {
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
  const result = await db.execute(sql`
    SELECT ${RETURNING} FROM kv_entries
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY key
    LIMIT ${query.limit}`);
  return rowsOf<KvRow>(result).map(toKvRecord);
}

/** The smallest string above every string starting with `prefix` (keys are ASCII, so no overflow). */
function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
