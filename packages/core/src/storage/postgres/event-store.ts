import { type SQL, sql } from 'drizzle-orm';
import { ANNOUNCED_EVENTS_MAX, ANNOUNCEMENT_MAX_BYTES } from '../../events/channels.js';
import type { JsonValue } from '../../kv/types.js';
import type {
  EventFilter,
  EventRecord,
  EventStore,
  NewEvent,
  NumberedAppend,
  SequenceOptions,
  SequenceResult,
} from '../ports.js';
import type { PgDb } from './db.js';
import { appendEvents, insertEventsSql, numberInboxEventsSql, unnestInboxRow } from './event-append.js';
import { parseJson, rowsOf, textList, timestamptz, toDate } from './sql-helpers.js';
import { drizzleTransactions, type Transact } from './transactions.js';

/** Any fixed number (with the schema's hash as second key): one sequencer pass at a time per schema. */
const SEQUENCER_LOCK_KEY = 7_301_031;
/** Events numbered per statement (give or take one inbox row's); a pass loops until none are left. */
const SEQUENCE_BATCH = 5000;
/** Inbox rows moved per statement at most. */
const INBOX_ROWS = 500;
/** The transaction-local setting that tells the numbering statement whether the pass lock was granted. */
const NUMBERING_LOCKED = 'proserver.numbering_locked';

interface EventRow {
  id: string;
  seq: number | string | bigint;
  type: string;
  subject: string;
  data: string;
  actor: string | null;
  at: unknown;
}

function toEventRecord(row: EventRow): EventRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    type: row.type,
    subject: row.subject,
    data: parseJson<JsonValue>(row.data),
    actor: row.actor,
    at: toDate(row.at),
  };
}

export interface PgEventStoreOptions {
  /** How the pass's transaction is run (default: drizzle's). */
  transact?: Transact;
  /** Events are numbered by a trigger as they are appended (PGlite: see pglite-events.ts). */
  numberedAtAppend?: boolean;
  /**
   * The PostgreSQL channel of the `events` notification (see pgChannelName): each pass that
   * numbered events sends it in its own transaction. A NOTIFY is a transaction with a commit
   * record of its own, flushed to disk, so sent separately it cost every pass a second round
   * trip and a second disk sync; sent inside, it shares the pass's. (It holds PostgreSQL's
   * notification lock through that one commit, as a separate NOTIFY held it through its own.)
   * Without it the caller announces what was numbered.
   */
  announceChannel?: string;
}

/**
 * The event log on PostgreSQL (either driver).
 *
 * Why events are numbered after commit, by a separate pass: a sequence value taken inside
 * the writer's transaction is allocated in start order but becomes visible in commit order, so
 * a reader could see seq 11 (committed) and only later seq 10 (a slower transaction), and a
 * tailer that had moved past 10 would never deliver it. Instead writers append their events,
 * unnumbered, to the inbox in the transaction of their change (invisible until it commits:
 * one inbox row per statement, see `appendSelectedEvents`), and {@link sequencePending} moves
 * the committed ones into the log, numbering them: one pass at a time (an advisory lock held
 * for the pass's transaction), each pass numbering in one statement with values above every
 * earlier pass's, committed at once. Readers read the log only (`seq > after ORDER BY seq`),
 * so a reader that has seen seq N never later finds a new event below N.
 *
 * On PGlite (`numberedAtAppend`) a trigger numbers events as they are appended (see
 * pglite-events.ts); a pass then only reports the last seq when it moved.
 *
 * @example
 * const events = new PgEventStore(db);
 * await events.sequencePending();
 * const page = await events.readAfter(0, 100);
 */
export class PgEventStore implements EventStore {
  /** numberedAtAppend: the last seq a pass reported. */
  private reportedSeq = 0;
  private readonly transact: Transact;
  private readonly numberedAtAppend: boolean;
  private readonly announceChannel: string | undefined;

  constructor(
    private readonly db: PgDb,
    options: PgEventStoreOptions = {},
  ) {
    this.transact = options.transact ?? drizzleTransactions(db);
    this.numberedAtAppend = options.numberedAtAppend ?? false;
    this.announceChannel = options.announceChannel;
  }

  async append(events: readonly NewEvent[]): Promise<void> {
    await appendEvents(this.db, events);
  }

  async sequencePending(options: SequenceOptions = {}): Promise<SequenceResult> {
    return this.numberedAtAppend ? this.reportNumbered() : this.moveInbox(options);
  }

  /**
   * On a server, one transaction sent at once: BEGIN, the pass lock (waiting for another node's
   * pass), the append, the move (which sees the transaction's own inbox row and every one
   * committed before) and COMMIT; the move answers the appended events' seqs. Where an append
   * and a pass were two round trips and a lookup of the seqs a third, this is one. Holding the
   * lock through the append costs nothing: the append is all this transaction writes. When a
   * backlog larger than one move lies ahead, further passes number the rest.
   */
  async appendNumbered(events: readonly NewEvent[]): Promise<NumberedAppend> {
    if (this.numberedAtAppend) {
      await appendEvents(this.db, events);
      const { lastSeq, announced } = await this.reportNumbered();
      return { seqs: await this.seqsOf(events), lastSeq, announced };
    }
    const pass = await this.numberBatch(true, events);
    let lastSeq = pass.last;
    if (pass.more) lastSeq = (await this.moveInbox({ wait: true, likelyPending: true })).lastSeq ?? lastSeq;
    const seqs = pass.seqs.size === events.length ? pass.seqs : await this.seqsOf(events);
    return { seqs, lastSeq, announced: this.announceChannel !== undefined };
  }

  /** The seq of each of these events that is numbered. */
  private async seqsOf(events: readonly NewEvent[]): Promise<Map<string, number>> {
    const ids = events.map((event) => event.id);
    const rows = rowsOf<{ id: string; seq: number | string }>(
      await this.db.execute(sql`SELECT id, seq FROM events WHERE id = ${textList(ids)}`),
    );
    return new Map(rows.map((row) => [row.id, Number(row.seq)]));
  }

  /** Moves every committed inbox row into the log (passes of {@link numberBatch}), answering the last seq numbered. */
  private async moveInbox(options: SequenceOptions): Promise<SequenceResult> {
    const announced = this.announceChannel !== undefined;
    // The common case when idle is "nothing left": answer it with one index probe, without a
    // transaction (under load the caller says to skip it).
    if (!options.likelyPending) {
      const [probe] = rowsOf<{ pending: boolean }>(
        await this.db.execute(sql`SELECT EXISTS (SELECT 1 FROM event_inbox ORDER BY append_order LIMIT 1) AS pending`),
      );
      if (!probe?.pending) return { lastSeq: null, busy: false, announced };
    }
    let last: number | null = null;
    for (;;) {
      const pass = await this.numberBatch(options.wait === true);
      // Another node is numbering: it (or the next pass) numbers ours too.
      if (!pass.locked) return { lastSeq: last, busy: true, announced };
      if (pass.last !== null) last = pass.last;
      if (!pass.more) return { lastSeq: last, busy: false, announced };
    }
  }

  /** PGlite (events numbered as appended): the last seq, when it moved since the previous report. */
  private async reportNumbered(): Promise<SequenceResult> {
    const [row] = rowsOf<{ last: number | string | null }>(
      await this.db.execute(sql`SELECT max(seq)::float8 AS last FROM events`),
    );
    const last = row?.last === null || row?.last === undefined ? null : Number(row.last);
    if (last === null || last <= this.reportedSeq) return { lastSeq: null, busy: false, announced: false };
    this.reportedSeq = last;
    return { lastSeq: last, busy: false, announced: false };
  }

  /**
   * Moves committed inbox rows (up to INBOX_ROWS, or fewer once SEQUENCE_BATCH events are
   * reached) into the log in one transaction, sent at once: BEGIN, the pass lock (its outcome
   * kept in a transaction-local setting), the move, which does nothing unless the lock was
   * granted, and COMMIT. With an `announceChannel`, the move also sends the `events`
   * notification of its last seq when it numbered any (delivered at commit), with the events
   * themselves when few enough fit (see announceSql). With `append` (appendNumbered), those
   * events are inserted into the inbox after the lock, in the same transaction, and the move,
   * which sees them, also answers their seqs.
   *
   * Under READ COMMITTED the move takes its snapshot when it starts, after the lock was
   * granted, so it sees every earlier pass's numbers and every inbox row committed so far.
   * Events are sorted (inbox rows in causal append order, each row's events in their order)
   * before nextval runs on them, so numbers follow that order. The inbox rows are deleted by
   * their `ctid` (a TID scan; no other pass runs, so it is stable for the statement).
   */
  private async numberBatch(
    wait: boolean,
    append: readonly NewEvent[] = [],
  ): Promise<{ locked: boolean; last: number | null; more: boolean; seqs: Map<string, number> }> {
    const lockKey = sql`${SEQUENCER_LOCK_KEY}::int, hashtext(current_schema())`;
    const lock = wait
      ? sql`SELECT set_config(${NUMBERING_LOCKED}, 'true', true) FROM (SELECT pg_advisory_xact_lock(${lockKey})) granted`
      : sql`SELECT set_config(${NUMBERING_LOCKED}, pg_try_advisory_xact_lock(${lockKey})::text, true)`;
    const [, , result] = await this.transact((tx) =>
      Promise.all([
        tx.execute(lock),
        append.length > 0 ? tx.execute(insertEventsSql(append)) : undefined,
        tx.commitWith(sql`
          WITH head AS (
            SELECT ctid AS row_id, append_order, n, ids, types, subjects, data, actors, ats FROM event_inbox
            WHERE current_setting(${NUMBERING_LOCKED}) = 'true'
            ORDER BY append_order LIMIT ${INBOX_ROWS}
          ), picked AS (
            SELECT row_id, append_order, ids, types, subjects, data, actors, ats FROM (
              SELECT head.*, sum(n) OVER (ORDER BY append_order) - n AS before FROM head
            ) counted
            WHERE before < ${SEQUENCE_BATCH}
          ), removed AS (
            DELETE FROM event_inbox WHERE ctid = ANY (ARRAY(SELECT row_id FROM picked))
          ), numbered AS (${sql.raw(
            numberInboxEventsSql(
              `picked CROSS JOIN LATERAL ${unnestInboxRow('picked')}`,
              'picked.append_order, e.position',
            ),
          )}
            RETURNING seq, id, type, subject, data, actor, at
          )
          SELECT current_setting(${NUMBERING_LOCKED}) = 'true' AS locked, moved.last::float8 AS last,
                 (SELECT count(*) FROM head) > (SELECT count(*) FROM picked)
                   OR (SELECT count(*) FROM head) = ${INBOX_ROWS} AS more${this.announceSql()}${appendedSeqsSql(append)}
          FROM (SELECT max(seq) AS last FROM numbered) moved`),
      ]),
    );
    const [row] = rowsOf<{ locked: boolean; last: number | null; more: boolean; seqs?: string | null }>(result);
    const seqs = JSON.parse(row?.seqs ?? '[]') as [string, number][];
    return {
      locked: row?.locked === true,
      last: row?.last === null || row?.last === undefined ? null : Number(row.last),
      more: row?.more === true,
      seqs: new Map(seqs),
    };
  }

  /** The numbering statement's notification column (see announceChannel), when there is a channel. */
  private announceSql(): SQL {
    if (this.announceChannel === undefined) return sql``;
    // The payload (see parseAnnouncement): the last seq, with the pass's events when there are
    // few enough to fit; they are built only then (a task drain's passes number thousands).
    return sql`,
                 (SELECT count(*) FROM (
                    SELECT pg_notify(${this.announceChannel},
                                     CASE WHEN octet_length(p.payload) <= ${ANNOUNCEMENT_MAX_BYTES}
                                          THEN p.payload ELSE moved.last::text END)
                    FROM (SELECT CASE WHEN (SELECT count(*) FROM numbered) <= ${ANNOUNCED_EVENTS_MAX}
                            THEN json_build_object('last', moved.last, 'events', (
                                   SELECT json_agg(json_build_array(n.id, n.seq, n.type, n.subject, n.data, n.actor, n.at)
                                                   ORDER BY n.seq)
                                   FROM numbered n))::text
                            ELSE moved.last::text END AS payload) p
                    WHERE moved.last IS NOT NULL) sent) AS announced`;
  }

  async readAfter(after: number, limit: number, filter?: EventFilter): Promise<EventRecord[]> {
    const conditions: SQL[] = [sql`seq > ${after}`];
    if (filter?.typePrefixes) {
      conditions.push(
        sql`EXISTS (SELECT 1 FROM jsonb_array_elements_text(${JSON.stringify(filter.typePrefixes)}::text::jsonb) p
                    WHERE starts_with(type, p))`,
      );
    }
    if (filter?.subjects) {
      conditions.push(
        sql`subject IN (SELECT jsonb_array_elements_text(${JSON.stringify(filter.subjects)}::text::jsonb))`,
      );
    }
    const rows = rowsOf<EventRow>(
      await this.db.execute(sql`
        SELECT id, seq, type, subject, data::text AS data, actor, at FROM events
        WHERE ${sql.join(conditions, sql` AND `)}
        ORDER BY seq LIMIT ${limit}`),
    );
    return rows.map(toEventRecord);
  }

  async bounds(): Promise<{ oldest: number | null; last: number }> {
    const [row] = rowsOf<{ oldest: number | null; last: number | null }>(
      await this.db.execute(sql`
        SELECT (SELECT min(seq) FROM events)::float8 AS oldest, (SELECT max(seq) FROM events)::float8 AS last`),
    );
    return {
      oldest: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest),
      last: Number(row?.last ?? 0),
    };
  }

  async purgeBefore(before: Date, limit: number): Promise<number> {
    // A prefix of the log only (in seq order, stopping at the first event not old enough), so
    // "everything below the oldest retained seq is gone" stays true for EVENTS_EXPIRED. The
    // newest event is always kept, so the log's last seq survives a full purge. Reads the head
    // through the seq index; writers append at the other end and never wait for it.
    const [row] = rowsOf<{ n: number }>(
      await this.db.execute(sql`
        WITH head AS (
          SELECT id, seq, at FROM events ORDER BY seq LIMIT ${limit}
        ), stop AS (
          SELECT LEAST(
            (SELECT min(seq) FROM head WHERE at >= ${timestamptz(before)}),
            (SELECT max(seq) FROM events)) AS s
        ), gone AS (
          DELETE FROM events WHERE id IN (SELECT id FROM head WHERE seq < (SELECT s FROM stop)) RETURNING 1
        )
        SELECT count(*)::int AS n FROM gone`),
    );
    return Number(row?.n ?? 0);
  }
}

/** The numbering statement's column of the appended events' seqs (`[[id, seq], …]`), when it appends any. */
function appendedSeqsSql(append: readonly NewEvent[]): SQL {
  if (append.length === 0) return sql``;
  const ids = append.map((event) => event.id);
  return sql`,
                 (SELECT json_agg(json_build_array(id, seq::float8))::text FROM numbered
                  WHERE id = ${textList(ids)}) AS seqs`;
}
