/**
 * The event log's port (SPEC §4), and `ChangeContext`: the actor and id source every store
 * write stamps on the events it appends.
 */
import type { Ids } from '../../ids.js';
import type { JsonValue } from '../../kv/types.js';

/**
 * An event to append in the same unit of work as the change it describes (SPEC §4):
 * `type` like `kv.set`, `subject` the changed thing (a key, a task id, a document path),
 * `actor` the principal's id (`tok_…`, `system`) or null.
 */
export interface NewEvent {
  id: string;
  type: string;
  subject: string;
  data: JsonValue;
  actor: string | null;
  at: Date;
}

/** An event as stored, numbered: `seq` is strictly increasing in the order readers see events. */
export interface EventRecord extends NewEvent {
  seq: number;
}

/**
 * Who made a change and where its events get their ids: the optional last argument of every
 * store write that appends events. Omitted, the actor is `system` (see `SYSTEM_CHANGE`).
 *
 * @example
 * await store.upsert(entry, now, { actor: 'tok_01…', ids });
 */
export interface ChangeContext {
  /** The principal's id (`tok_…`), `system`, or null. */
  actor: string | null;
  ids: Ids;
  /** When the change happened, for writes that take no `now` of their own (progress, logs). */
  at?: Date;
}

/** Which events a read wants; a prefilter only (scopes are checked by the event service). */
export interface EventFilter {
  /** Type prefixes such as `task.` or exact types; any of them. */
  typePrefixes?: readonly string[];
  /** Exact subjects; any of them. */
  subjects?: readonly string[];
}

/** What a sequencer pass did. */
export interface SequenceResult {
  /** The highest seq it assigned; null when it numbered nothing. */
  lastSeq: number | null;
  /** Another node's pass was running (only without `wait`): it may have started before some events committed. */
  busy: boolean;
  /**
   * The store itself told every node's `events` listeners about `lastSeq` (a PostgreSQL server
   * store notifies in the pass's own transaction); otherwise the caller announces it.
   */
  announced: boolean;
}

/** What {@link EventStore.appendNumbered} did: each appended event's seq, and the numbering's outcome. */
export interface NumberedAppend extends Omit<SequenceResult, 'busy'> {
  seqs: Map<string, number>;
}

export interface SequenceOptions {
  /** Wait for another node's pass instead of answering `busy`. */
  wait?: boolean;
  /**
   * Events are probably pending (the previous pass numbered some and more writes came since):
   * skip the cheap "anything pending?" probe that saves an idle pass its transaction.
   */
  likelyPending?: boolean;
}

/**
 * The durable event log. Writers append in their own unit of work, unnumbered (PostgreSQL: one
 * inbox row per statement, see `appendEvents`); {@link EventStore.sequencePending} numbers
 * committed events so that readers, who read numbered events only, never find a new event
 * below one they saw.
 */
export interface EventStore {
  /** Appends events on their own (client events: `custom.*`). */
  append(events: readonly NewEvent[]): Promise<void>;
  /**
   * Numbers every committed event not yet numbered (one pass at a time across all nodes). Returns
   * the highest seq it assigned (null when it numbered nothing); `busy` when another pass was
   * running (only without `wait`, which waits for it instead): that pass may have started
   * before some events committed, so look again soon.
   */
  sequencePending(options?: SequenceOptions): Promise<SequenceResult>;
  /** Sequenced events with `seq > after`, oldest first. */
  readAfter(after: number, limit: number, filter?: EventFilter): Promise<EventRecord[]>;
  /**
   * Appends events on their own (client events: `custom.*`) and numbers them, with every event
   * committed before, waiting for another node's pass if needed: one unit of work where an
   * {@link append} and a {@link sequencePending} pass would be two. Answers each event's seq and
   * what the numbering did (its `lastSeq` and whether the store announced it).
   */
  appendNumbered(events: readonly NewEvent[]): Promise<NumberedAppend>;
  /** The smallest retained seq (null when the log is empty) and the highest sequenced one (0 when none). */
  bounds(): Promise<{ oldest: number | null; last: number }>;
  /** Deletes up to `limit` of the oldest events older than `before`, always keeping the newest one; returns how many. */
  purgeBefore(before: Date, limit: number): Promise<number>;
}
