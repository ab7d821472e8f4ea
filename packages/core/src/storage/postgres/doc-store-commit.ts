/**
 * A document commit on PostgreSQL: one transaction that reads the current state of every
 * target (and subtree), plans the writes with the same pure code as the memory store
 * (docs/commit-plan.ts), then persists documents, history and events with a handful of
 * set-based statements whatever the commit's size.
 */
import { type SQL, sql } from 'drizzle-orm';
import { materialize, planCommit } from '../../docs/commit-plan.js';
import { prefixEnd } from '../../docs/paths.js';
import type { DocCommitOptions, DocRecord, DocStoreWrite, DocWriteOutcome, NewEvent } from '../ports.js';
import type { SqlRunner } from './db.js';
import { DOC_COLUMNS, type DocRow, toDocRecord } from './doc-store-rows.js';
import { insertEventsSql } from './event-append.js';
import { jsonb, rowsOf, sqlStateOf, textList } from './sql-helpers.js';
import type { Transact } from './transactions.js';

/** Namespace (first key) of the per-path advisory locks; the second key is the path's hash. */
export const DOC_PATH_LOCK_NAMESPACE = 7_301_005;
/** The transaction-local setting holding the path-lock keys a batch was granted (see doc-store-batch.ts). */
export const GRANTED_PATH_LOCKS = 'proserver.granted_path_locks';
/** PostgreSQL's deadlock error: crossing recursive deletes can lock rows in opposite orders. */
const DEADLOCK_DETECTED = '40P01';
const DEADLOCK_ATTEMPTS = 3;
const utf8 = new TextEncoder();

/**
 * Runs the commit. Writers of different documents never wait on each other:
 * - every target path is locked with a transaction-scoped advisory lock keyed by its hash,
 *   taken in ascending key order (no deadlocks between writers), so two writers of one path,
 *   including two creators of a path that does not exist yet (no row to lock), take turns;
 * - the current rows are then read FOR UPDATE (targets and recursive-delete subtrees), which
 *   also waits for a recursive delete that holds a target row without its advisory lock;
 * - revisions come from a sequence inside the transaction: increasing, never reused, gaps
 *   allowed. They may commit out of order, which is why the change feed reads the event log
 *   (numbered after commit by the sequencer), not revisions.
 * Crossing recursive deletes (each deleting below the other's target) can still deadlock on
 * row locks; PostgreSQL aborts one and the whole commit is retried.
 */
export async function commitDocWrites(
  transact: Transact,
  writes: readonly DocStoreWrite[],
  options: DocCommitOptions,
): Promise<DocWriteOutcome[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await commitOnce(transact, writes, options);
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error;
    }
  }
}

function isDeadlock(error: unknown): boolean {
  return sqlStateOf(error) === DEADLOCK_DETECTED;
}

async function commitOnce(
  transact: Transact,
  writes: readonly DocStoreWrite[],
  options: DocCommitOptions,
): Promise<DocWriteOutcome[]> {
  return transact(async (tx) => {
    // The lock is its own statement, the read another: a statement's snapshot is taken when
    // it starts, so reading in the lock's statement could miss a document created by the
    // previous holder. The read is pipelined behind the lock (sent at once, without waiting
    // for the lock's answer; BEGIN goes with them): the server runs it, and takes its
    // snapshot, only once the lock is granted. One round trip for the three, and one more
    // for the write and COMMIT.
    const keys = pathLockKeys(writes.map((write) => write.target.path));
    // The subquery hands the keys over in ascending order (see pathLockKeys).
    const locking = tx
      .execute(sql`
        SELECT count(pg_advisory_xact_lock(${DOC_PATH_LOCK_NAMESPACE}::int, k.key))
        FROM (SELECT t.key::int AS key FROM jsonb_array_elements_text(${jsonb(keys)}) WITH ORDINALITY AS t(key, n)
              ORDER BY t.n) k`)
      .then(() => undefined);
    // One revision per write is taken with the read; a recursive delete takes more once its
    // subtree is known. Unused ones are gaps: revisions only promise to increase, never to be
    // consecutive.
    const [, { current, revisions }] = await Promise.all([locking, readTargets(tx, writes)]);
    const subtrees = new Map<string, string[]>();
    for (const write of writes) {
      if (!write.recursive || subtrees.has(write.target.path)) continue;
      const below = await readSubtree(tx, write.target.path, write.recursive.maxDocuments + 1);
      for (const record of below) current.set(record.path, record);
      subtrees.set(
        write.target.path,
        below.map((record) => record.path),
      );
    }
    const plan = planCommit(
      writes,
      { get: (path) => current.get(path) ?? null, subtree: (path) => subtrees.get(path) ?? [] },
      options.now,
      options.change.actor ?? 'system',
    );
    if (plan.count > revisions.length) revisions.push(...(await allocateRevisions(tx, plan.count - revisions.length)));
    const { outcomes, changes, events } = materialize(plan, revisions, options.change, options.now);
    const write = writeStatement(changes, events, options.maxHistoryVersions);
    if (write) await tx.commitWith(write);
    return outcomes;
  });
}

/**
 * The advisory-lock keys of these paths: a 32-bit FNV-1a hash of each, deduplicated and
 * ascending, so every writer takes its locks in the same order. Two paths sharing a hash
 * only make their writers take turns.
 */
export function pathLockKeys(paths: readonly string[]): number[] {
  return [...new Set(paths.map(pathLockKey))].sort((a, b) => a - b);
}

/** The advisory-lock key of one path (see pathLockKeys). */
export function pathLockKey(path: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(path)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

/**
 * The current documents of every target, and one new revision per write (ascending).
 *
 * The revisions come from one row per write of the path list, not `generate_series(1, $n)`:
 * the statement is prepared, and a generic plan cannot see `$n`, so it counts on a thousand
 * rows where each custom plan counts one; PostgreSQL then judged the generic plan too dear and
 * planned the statement anew on every write (a quarter of a millisecond of server CPU each).
 * A list parameter is estimated alike by both, so the generic plan is kept.
 */
export async function readTargets(
  tx: SqlRunner,
  writes: readonly DocStoreWrite[],
  lockKeys?: ReadonlyMap<string, number>,
): Promise<{ current: Map<string, DocRecord>; revisions: number[] }> {
  // With `lockKeys` (a batch's path-lock key per path, see doc-store-batch.ts): only the
  // documents whose path lock this transaction was granted are read and locked; another writer
  // holds the others' rows.
  const targets = lockKeys
    ? sql`SELECT t.path, t.key FROM jsonb_to_recordset(${jsonb(writes.map((w) => ({ path: w.target.path, key: lockKeys.get(w.target.path) })))})
            AS t(path text, key int)`
    : sql`SELECT jsonb_array_elements_text(${JSON.stringify(writes.map((w) => w.target.path))}::text::jsonb) AS path`;
  const granted = lockKeys ? sql`WHERE key = ANY (current_setting(${GRANTED_PATH_LOCKS})::int[])` : sql``;
  // The LEFT JOIN answers one row even when no target exists, so the revisions always come back.
  const rows = rowsOf<DocRow & { revisions: string }>(
    await tx.execute(sql`
      WITH targets AS (${targets}), revs AS (
        SELECT coalesce(json_agg(r ORDER BY r), '[]')::text AS revisions
        FROM (SELECT nextval('doc_revision_seq')::float8 AS r FROM targets) s
      ), found AS (
        SELECT ${DOC_COLUMNS} FROM documents d
        WHERE d.path = ANY (ARRAY(SELECT path FROM targets ${granted}))
        FOR UPDATE OF d
      )
      SELECT found.*, revs.revisions FROM revs LEFT JOIN found ON true`),
  );
  const current = new Map<string, DocRecord>();
  for (const row of rows) if (row.path !== null) current.set(row.path, toDocRecord(row));
  return { current, revisions: JSON.parse(rows[0]?.revisions ?? '[]') as number[] };
}

/** The documents strictly below `path` (data left out: deleting needs none), at most `limit`, locked in path order. */
async function readSubtree(tx: SqlRunner, path: string, limit: number): Promise<DocRecord[]> {
  const prefix = `${path}/`;
  const rows = rowsOf<DocRow>(
    await tx.execute(sql`
      SELECT d.path, d.parent_path, d.collection, d.doc_id, '{}' AS data, d.version, d.revision,
             d.created_at, d.updated_at, d.created_by, d.updated_by
      FROM documents d WHERE d.path >= ${prefix} AND d.path < ${prefixEnd(prefix)}
      ORDER BY d.path LIMIT ${limit} FOR UPDATE OF d`),
  );
  return rows.map(toDocRecord);
}

/** `count` more revisions, ascending. */
async function allocateRevisions(tx: SqlRunner, count: number): Promise<number[]> {
  const rows = rowsOf<{ revision: number | string }>(
    await tx.execute(sql`SELECT nextval('doc_revision_seq')::float8 AS revision FROM generate_series(1, ${count})`),
  );
  return rows.map((row) => Number(row.revision)).sort((a, b) => a - b);
}

/** The statement that persists these changes and events (see persistStatement); null when there is nothing to write. */
export function writeStatement(
  changes: ReturnType<typeof materialize>['changes'],
  events: readonly NewEvent[],
  keep: number | null,
): SQL | null {
  if (changes.length > 0) return persistStatement(changes, events, keep);
  return events.length > 0 ? insertEventsSql(events) : null;
}

/**
 * The statement that writes the final state of every touched path, every history entry and
 * the events, and trims history to `keep` entries per path: ONE statement (data-modifying CTEs:
 * one round trip whatever the commit's size). Each path's newest history ordinal is read
 * first (`newest`: the path locks, or a recursive delete's row locks, keep other writers of
 * these paths out until COMMIT); the new entries continue it, and the trim deletes the range
 * of ordinals that fell out of the newest `keep`. The CTEs share one snapshot, so the trim
 * cannot see the entries this statement inserts, nor does it need to: it reads only the
 * entries it deletes.
 */
function persistStatement(
  changes: ReturnType<typeof materialize>['changes'],
  events: readonly NewEvent[],
  keep: number | null,
): SQL {
  const final = new Map<string, DocRecord | null>();
  const added = new Map<string, number>();
  const history = changes.map(({ record, history: h }) => {
    final.set(h.path, record);
    const position = (added.get(h.path) ?? 0) + 1;
    added.set(h.path, position);
    return { ...h, parent_path: h.parentPath, doc_id: h.id, position };
  });
  const puts = [...final.values()].filter((record): record is DocRecord => record !== null);
  const deletes = [...final].filter(([, record]) => record === null).map(([path]) => path);
  const paths = [...added].map(([path, count]) => ({ path, added: count }));
  // The rows travel as JSON parameters; `r.data` keeps each document's jsonb exactly. Lists
  // are matched with `= ANY (ARRAY(…))` (`textList`), and history is read per path (LATERAL;
  // OFFSET 0 keeps the planner from turning it into a join) through its (path, ordinal) index:
  // the statement is prepared, and a generic plan counts on a hundred paths, so a join against
  // document_history was planned as a scan of the whole table (3 ms a write at 11,000
  // entries). A null `keep` keeps everything (`ordinal <= NULL` holds for no entry).
  return sql`
    WITH newest AS (
      SELECT t.path, t.added,
             coalesce((SELECT h.ordinal FROM document_history h WHERE h.path = t.path
                       ORDER BY h.ordinal DESC LIMIT 1), 0) AS ordinal
      FROM jsonb_to_recordset(${jsonb(paths)}) AS t(path text, added integer)
    ), removed AS (
      DELETE FROM documents WHERE path = ${textList(deletes)}
    ), stored AS (
      INSERT INTO documents (path, parent_path, collection, doc_id, data, version, revision,
                             created_at, updated_at, created_by, updated_by)
      SELECT r.path, r.parent_path, r.collection, r.doc_id, r.data, r.version, r.revision,
             r.created_at, r.updated_at, r.created_by, r.updated_by
      FROM jsonb_to_recordset(${jsonb(puts.map(docRow))}) AS r(path text, parent_path text, collection text,
        doc_id text, data jsonb, version integer, revision bigint, created_at timestamptz, updated_at timestamptz,
        created_by text, updated_by text)
      ON CONFLICT (path) DO UPDATE SET data = excluded.data, version = excluded.version,
        revision = excluded.revision, created_at = excluded.created_at, updated_at = excluded.updated_at,
        created_by = excluded.created_by, updated_by = excluded.updated_by
    ), recorded AS (
      INSERT INTO document_history (revision, path, parent_path, collection, doc_id, version, op, data, at, actor,
                                    ordinal)
      SELECT r.revision, r.path, r.parent_path, r.collection, r.doc_id, r.version, r.op,
             NULLIF(r.data, 'null'::jsonb), r.at, r.actor, n.ordinal + r.position
      FROM jsonb_to_recordset(${jsonb(history)})
        AS r(revision bigint, path text, parent_path text, collection text, doc_id text, version integer, op text,
             data jsonb, at timestamptz, actor text, position integer)
        JOIN newest n ON n.path = r.path
    ), appended AS (${insertEventsSql(events)})
    DELETE FROM document_history WHERE revision = ANY (ARRAY(
      SELECT old.revision FROM newest n CROSS JOIN LATERAL (
        SELECT h.revision FROM document_history h
        WHERE h.path = n.path AND h.ordinal <= n.ordinal + n.added - ${keep}::integer OFFSET 0) old))`;
}

function docRow(record: DocRecord) {
  return {
    path: record.path,
    parent_path: record.parentPath,
    collection: record.collection,
    doc_id: record.id,
    data: record.data,
    version: record.version,
    revision: record.revision,
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
    created_by: record.createdBy,
    updated_by: record.updatedBy,
  };
}
