import { type SQL, sql } from 'drizzle-orm';
import { DOC_CHANGE_EVENT_TYPES, docChangeFromEvent } from '../../docs/change-events.js';
import { prefixEnd } from '../../docs/paths.js';
import type { JsonObject } from '../../docs/types.js';
import type { JsonValue } from '../../kv/types.js';
import type {
  DocChangeRecord,
  DocChangesQuery,
  DocCommitOptions,
  DocHistoryRecord,
  DocRecord,
  DocStore,
  DocStoreQuery,
  DocStoreWrite,
  DocWriteOutcome,
} from '../ports.js';
import type { PgDb } from './db.js';
import { DocCommitBatches } from './doc-commit-batches.js';
import { compileAfter, compileFilter, compileOrderBy, compileScope, compileVisibility } from './doc-query-compiler.js';
import { commitDocBatch } from './doc-store-batch.js';
import { commitDocWrites } from './doc-store-commit.js';
import { DOC_COLUMNS, type DocRow, toDocRecord } from './doc-store-rows.js';
import { jsonb, parseJson, rowsOf, timestamptz, toDate } from './sql-helpers.js';
import { drizzleTransactions, type Transact } from './transactions.js';

const HISTORY_COLUMNS = sql.raw(
  'h.revision, h.path, h.parent_path, h.collection, h.doc_id, h.version, h.op, h.at, h.actor',
);

/** An event row as the change feed reads it (`seq` null only in the empty-page row). */
interface EventRow {
  id: string;
  seq: number | string | bigint | null;
  type: string;
  subject: string;
  data: string;
  actor: string | null;
  at: unknown;
}

interface HistoryRow {
  revision: number | string | bigint;
  path: string;
  parent_path: string;
  collection: string;
  doc_id: string;
  version: number | string;
  op: DocHistoryRecord['op'];
  data?: string | null;
  at: unknown;
  actor: string;
}

function toHistoryRecord(row: HistoryRow): DocHistoryRecord {
  return {
    revision: Number(row.revision),
    path: row.path,
    parentPath: row.parent_path,
    collection: row.collection,
    id: row.doc_id,
    version: Number(row.version),
    op: row.op,
    data: row.data === undefined || row.data === null ? null : parseJson<JsonObject>(row.data),
    at: toDate(row.at),
    actor: row.actor,
  };
}

/**
 * The document store on PostgreSQL (either driver). Writes: grouped into batch transactions
 * (doc-commit-batches.ts, doc-store-batch.ts) or alone (doc-store-commit.ts). Reads are
 * single statements; queries are compiled to parameterised SQL by doc-query-compiler.ts.
 *
 * @example
 * const store = new PgDocStore(db);
 */
export class PgDocStore implements DocStore {
  private readonly batches: DocCommitBatches;

  constructor(
    private readonly db: PgDb,
    transact: Transact = drizzleTransactions(db),
  ) {
    this.batches = new DocCommitBatches({
      commitBatch: (commits) => commitDocBatch(transact, commits),
      commitAlone: (writes, options) => commitDocWrites(transact, writes, options),
    });
  }

  async get(path: string): Promise<DocRecord | null> {
    const rows = rowsOf<DocRow>(
      await this.db.execute(sql`SELECT ${DOC_COLUMNS} FROM documents d WHERE d.path = ${path}`),
    );
    return rows[0] ? toDocRecord(rows[0]) : null;
  }

  commit(writes: readonly DocStoreWrite[], options: DocCommitOptions): Promise<DocWriteOutcome[]> {
    return this.batches.commit(writes, options);
  }

  async query(query: DocStoreQuery): Promise<DocRecord[]> {
    const conditions: SQL[] = [
      compileScope(query.scope),
      compileVisibility(query.visibility),
      compileFilter(query.filter),
    ];
    if (query.after) conditions.push(compileAfter(query.order, query.after));
    const result = await this.db.execute(sql`
      SELECT ${DOC_COLUMNS} FROM documents d
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY ${compileOrderBy(query.order)}
      LIMIT ${query.limit}`);
    return rowsOf<DocRow>(result).map(toDocRecord);
  }

  async collections(parentPath: string, afterId: string | null, limit: number): Promise<string[]> {
    const prefix = parentPath === '' ? '' : `${parentPath}/`;
    const start = afterId === null ? prefix : `${prefix}${afterId}0`;
    const upper = prefix === '' ? sql`true` : sql`path < ${prefixEnd(prefix)}`;
    // A loose index scan over the primary key: take the first path at or after `from`, read its
    // collection id, and jump to the first path past that collection (id + '0', the character
    // after '/'), so each collection costs one index probe however many documents it holds.
    const result = await this.db.execute(sql`
      WITH RECURSIVE found(collection, n) AS (
        SELECT (SELECT split_part(substr(path, ${prefix.length + 1}), '/', 1) FROM documents
                WHERE path >= ${start} AND ${upper} ORDER BY path LIMIT 1), 1
        UNION ALL
        SELECT (SELECT split_part(substr(path, ${prefix.length + 1}), '/', 1) FROM documents
                WHERE path >= ${prefix} || found.collection || '0' AND ${upper} ORDER BY path LIMIT 1), found.n + 1
        FROM found WHERE found.collection IS NOT NULL AND found.n < ${limit}
      )
      SELECT collection FROM found WHERE collection IS NOT NULL ORDER BY n`);
    return rowsOf<{ collection: string }>(result).map((row) => row.collection);
  }

  async history(path: string, beforeRevision: number | null, limit: number): Promise<DocHistoryRecord[]> {
    // A page after the entry at `beforeRevision` starts below that entry's ordinal, so the scan
    // does not walk the newer entries first (the revision test alone answers the same rows).
    const before =
      beforeRevision === null
        ? sql``
        : sql`AND h.revision < ${beforeRevision} AND h.ordinal < coalesce(
            (SELECT o.ordinal FROM document_history o WHERE o.revision = ${beforeRevision} AND o.path = ${path}),
            9223372036854775807)`;
    const result = await this.db.execute(sql`
      SELECT ${HISTORY_COLUMNS}, h.data::text AS data FROM document_history h
      WHERE h.path = ${path} ${before}
      ORDER BY h.ordinal DESC LIMIT ${limit}`);
    return rowsOf<HistoryRow>(result).map(toHistoryRecord);
  }

  async historyVersion(path: string, version: number): Promise<DocHistoryRecord | null> {
    const result = await this.db.execute(sql`
      SELECT ${HISTORY_COLUMNS}, h.data::text AS data FROM document_history h
      WHERE h.path = ${path} AND h.version = ${version}
      ORDER BY h.ordinal DESC LIMIT 1`);
    const row = rowsOf<HistoryRow>(result)[0];
    return row ? toHistoryRecord(row) : null;
  }

  async changes(query: DocChangesQuery): Promise<{ records: DocChangeRecord[]; lastSeq: number }> {
    // Events as the column to filter: subject is the path ("C" for the range prefilters).
    const subject = sql.raw('(e.subject COLLATE "C")');
    const conditions: SQL[] = [
      sql`e.seq > ${query.after}`,
      sql`e.type IN (SELECT jsonb_array_elements_text(${jsonb(DOC_CHANGE_EVENT_TYPES)}))`,
      compileVisibility(query.visibility, subject),
    ];
    if (query.collection !== null) conditions.push(sql`e.data->>'collection' = ${query.collection}`);
    if (query.under !== null) {
      const prefix = `${query.under}/`;
      conditions.push(sql`${subject} >= ${prefix} AND ${subject} < ${prefixEnd(prefix)}`);
    }
    // One statement, one snapshot: the newest seq is read together with the page. The
    // sequencer numbers events after commit, one pass at a time, so every event up to the
    // newest seq is already visible and nothing numbered later can come below it.
    const result = await this.db.execute(sql`
      WITH page AS (
        SELECT e.id, e.seq, e.type, e.subject, e.data::text AS data, e.actor, e.at FROM events e
        WHERE ${sql.join(conditions, sql` AND `)}
        ORDER BY e.seq LIMIT ${query.limit}
      ), newest AS (SELECT coalesce(max(seq), 0)::float8 AS last_seq FROM events)
      SELECT page.*, newest.last_seq FROM newest LEFT JOIN page ON true ORDER BY page.seq`);
    const rows = rowsOf<EventRow & { last_seq: number | string }>(result);
    const records: DocChangeRecord[] = [];
    for (const row of rows) {
      if (row.seq === null) continue;
      const change = docChangeFromEvent({
        id: row.id,
        seq: Number(row.seq),
        type: row.type,
        subject: row.subject,
        data: parseJson<JsonValue>(row.data),
        actor: row.actor,
        at: toDate(row.at),
      });
      if (change) records.push(change);
    }
    return { records, lastSeq: Number(rows[0]?.last_seq ?? 0) };
  }

  async pruneHistory(before: Date, limit: number): Promise<number> {
    // The newest entry of a live document stays (the change feed's latest word on it);
    // everything older than `before`, and whole histories ending in a deletion, go.
    const result = await this.db.execute(sql`
      DELETE FROM document_history WHERE revision IN (
        SELECT h.revision FROM document_history h
        WHERE h.at < ${timestamptz(before)}
          AND (h.op = 'delete'
               OR EXISTS (SELECT 1 FROM document_history n WHERE n.path = h.path AND n.ordinal > h.ordinal))
        ORDER BY h.at LIMIT ${limit})
      RETURNING revision`);
    return rowsOf(result).length;
  }
}
