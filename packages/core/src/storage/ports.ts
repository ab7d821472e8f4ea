/**
 * The storage interfaces, one per domain, with just the methods the domain's use cases need.
 * Implementations: memory (`@proserver/core/memory`) and one PostgreSQL implementation used
 * through both the `postgres` driver and PGlite. The current time is always passed in
 * (`now`): stores never read a clock of their own.
 */
import type { Role } from '../auth/types.js';
import type { FilterNode } from '../docs/filter.js';
import type { ResolvedOrderTerm, SortValue } from '../docs/order.js';
import type { JsonObject } from '../docs/types.js';
import type { Ids } from '../ids.js';
import type { JsonValue } from '../kv/types.js';
import type {
  Recurrence,
  RetryPolicy,
  TaskError,
  TaskLogLine,
  TaskPriority,
  TaskProgress,
  TaskStage,
  TaskStatus,
} from '../tasks/types.js';

export interface KvRecord {
  key: string;
  value: JsonValue;
  version: number;
  tags: string[];
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface KvWrite {
  key: string;
  value: JsonValue;
  tags: string[];
  expiresAt: Date | null;
}

/** A change to a live entry; `tags`/`expiresAt` undefined keeps the current ones. */
export interface KvChange {
  value: JsonValue;
  tags?: string[];
  expiresAt?: Date | null;
}

export interface KvListQuery {
  prefix?: string;
  tag?: string;
  /** Exclusive lower bound (keyset pagination). */
  afterKey?: string;
  limit: number;
}

/**
 * Every method treats an entry whose `expiresAt <= now` as absent, whether or not it has
 * been swept yet. Every write appends its events (`kv.set`, `kv.deleted`, `kv.expired`, one
 * per key) in the same unit of work as the change, stamped with `change` (default: system).
 */
export interface KvStore {
  get(key: string, now: Date): Promise<KvRecord | null>;
  /** Inserts (replacing an expired entry); null when a live entry already has the key. */
  insert(entry: KvWrite, now: Date, change?: ChangeContext): Promise<KvRecord | null>;
  /** Inserts or replaces; a replaced expired entry starts again at version 1. */
  upsert(entry: KvWrite, now: Date, change?: ChangeContext): Promise<KvRecord>;
  /** Changes a live entry (only at `expectedVersion` when given); null when nothing matched. */
  update(
    key: string,
    change: KvChange,
    expectedVersion: number | undefined,
    now: Date,
    context?: ChangeContext,
  ): Promise<KvRecord | null>;
  /** Deletes a live entry (only at `expectedVersion` when given); the deleted record or null. */
  delete(key: string, expectedVersion: number | undefined, now: Date, change?: ChangeContext): Promise<KvRecord | null>;
  /**
   * Atomically adds `by`; a missing or expired key is created as `by` (from 0, no tags, no
   * expiry). Null when the live value is not a number.
   */
  increment(key: string, by: number, now: Date, change?: ChangeContext): Promise<KvRecord | null>;
  /** Live entries in key order (bytewise; keys are ASCII). */
  list(query: KvListQuery, now: Date): Promise<KvRecord[]>;
  /** Upserts all entries in one transaction: all or nothing. */
  importEntries(
    entries: readonly KvWrite[],
    now: Date,
    change?: ChangeContext,
  ): Promise<{ created: number; updated: number }>;
  /** Deletes up to `limit` expired entries; returns their keys. */
  deleteExpired(now: Date, limit: number, change?: ChangeContext): Promise<string[]>;
}

export interface UserRecord {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  createdAt: Date;
  deletedAt: Date | null;
}

export interface TokenRecord {
  id: string;
  name: string;
  userId: string;
  last4: string;
  scopes: string[];
  /** SHA-256 (hex) of the current secret: the secret itself is never stored. */
  secretHash: string;
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  revokedAt: Date | null;
  rotatedAt: Date | null;
}

export interface TokenRotation {
  secretHash: string;
  last4: string;
  /** The current hash becomes the previous one, valid until this time (null: drop it). */
  previousSecretExpiresAt: Date | null;
  rotatedAt: Date;
}

export interface AuthStore {
  /** Atomically: when no (non-deleted) owner exists, inserts `owner` and `token`; returns whether it did. */
  createOwnerIfNone(owner: UserRecord, token: TokenRecord, change?: ChangeContext): Promise<boolean>;
  /** The oldest non-deleted owner. */
  findOwner(): Promise<UserRecord | null>;
  getUser(id: string): Promise<UserRecord | null>;
  insertUser(user: UserRecord): Promise<void>;
  /** Changes a user's role or marks it deleted (its tokens stop working at once). */
  updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void>;
  /** Inserts a token and appends its `token.created` event. */
  insertToken(token: TokenRecord, change?: ChangeContext): Promise<void>;
  /**
   * The token whose current secret hash is `hash`, or whose previous hash is `hash` while
   * `previousSecretExpiresAt > now`, with its creator.
   */
  findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null>;
  getToken(id: string): Promise<TokenRecord | null>;
  /** Ordered by id; `userId` restricts to one creator. */
  listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]>;
  /**
   * Sets `revokedAt` if not yet set (appending `token.revoked` then); returns the token as
   * stored after, or null if unknown.
   */
  revokeToken(id: string, now: Date, change?: ChangeContext): Promise<TokenRecord | null>;
  /** Replaces the secret of a non-revoked token (appending `token.rotated`); null if unknown or revoked. */
  rotateToken(id: string, rotation: TokenRotation, change?: ChangeContext): Promise<TokenRecord | null>;
  /** Records a use (time and client IP). */
  touchToken(id: string, at: Date, ip: string | null): Promise<void>;
}

/** All the stores of one backend. `close()` releases its connections. */
export interface Storage {
  readonly kind: 'memory' | 'pglite' | 'postgres';
  readonly kv: KvStore;
  readonly auth: AuthStore;
  readonly tasks: TaskStore;
  /** The document store (SPEC §5). */
  readonly docs: DocStore;
  /** The event log (SPEC §4): every store above appends its events in the unit of work of its change. */
  readonly events: EventStore;
  /** Cross-process wake-ups (PostgreSQL LISTEN/NOTIFY; an in-process emitter elsewhere). */
  readonly notifier: Notifier;
  /** Throws when the backend cannot answer (used by health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Fire-and-forget wake-ups between processes sharing one database. Delivery is best effort:
 * every consumer also polls, so a lost message only delays work, never loses it.
 *
 * @example
 * const unsubscribe = await storage.notifier.subscribe('tasks', (payload) => worker.wake(payload));
 * await storage.notifier.publish('tasks', 'critical');
 */
export interface Notifier {
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Resolves once listening (so a publish after it is seen); returns the unsubscribe function.
   * `onListen` runs each time listening (re)starts: messages published while a listener was
   * reconnecting are lost, so a consumer that caches can clear its cache there.
   */
  subscribe(
    channel: string,
    listener: (payload: string) => void,
    options?: { onListen?: () => void },
  ): Promise<() => Promise<void>>;
}

/** A task row as stored (times are Dates). Schedules (recurring tasks) are rows too, never claimed. */
export interface TaskRecord {
  id: string;
  type: string;
  status: TaskStatus;
  priority: TaskPriority;
  payload: JsonValue;
  result: JsonValue | null;
  error: TaskError | null;
  attempt: number;
  maxAttempts: number;
  retry: RetryPolicy;
  timeoutMs: number;
  progress: TaskProgress | null;
  stage: string | null;
  stages: TaskStage[];
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  submitter: string;
  tags: string[];
  concurrencyKey: string | null;
  parentId: string | null;
  recurrence: Recurrence | null;
  /** True for the row of a recurring task: it spawns runs and is never claimed itself. */
  isSchedule: boolean;
  runCount: number;
  idempotencyKey: string | null;
  cancelRequested: boolean;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /** Position in the start-time fair queue of its priority (smaller runs first). */
  fairSeq: number;
}

/** What a submit writes; the store adds status `pending`, attempt 0, fairSeq and createdAt. */
export interface NewTask {
  id: string;
  type: string;
  priority: TaskPriority;
  payload: JsonValue;
  maxAttempts: number;
  retry: RetryPolicy;
  timeoutMs: number;
  runAt: Date;
  submitter: string;
  tags: string[];
  concurrencyKey: string | null;
  parentId: string | null;
  recurrence: Recurrence | null;
  isSchedule: boolean;
  idempotencyKey: string | null;
}

export interface TaskListQuery {
  status?: TaskStatus;
  type?: string;
  priority?: TaskPriority;
  tag?: string;
  submitter?: string;
  parentId?: string;
  /** Newest first: only ids below this one (keyset pagination). */
  beforeId?: string;
  limit: number;
}

/** The three kinds of worker slot; each serves priorities in its own order (see the worker). */
export type SlotClass = TaskPriority;

export interface ClaimRequest {
  workerId: string;
  slotClass: SlotClass;
  limit: number;
  /** Task types this process has handlers for. */
  types: readonly string[];
  leaseExpiresAt: Date;
  /** Batch tasks due at or before this time have aged: normal slots take them before normal work. */
  agedBefore: Date;
}

/** Live progress of a running task, written only while `workerId` holds its lease. */
export interface TaskProgressUpdate {
  progress: TaskProgress | null;
  stage: string | null;
  stages: TaskStage[];
}

/**
 * How an attempt ended. `release` puts the task back in line without spending the attempt
 * (preemption, shutdown). When cancellation was requested meanwhile, every outcome becomes
 * `cancelled` in the store.
 */
export interface TaskOutcome extends TaskProgressUpdate {
  id: string;
  /** The attempt this outcome belongs to: a re-claimed task's older attempt can write nothing. */
  attempt: number;
  status: 'completed' | 'pending' | 'failed' | 'cancelled';
  release: boolean;
  result: JsonValue | null;
  error: TaskError | null;
  /** For `pending` (a retry): when the next attempt may start. */
  runAt: Date | null;
}

/** The events a progress write announces (appended only when the write applies). */
export interface ProgressAnnouncement {
  change: ChangeContext;
  events: readonly { type: 'task.progress' | 'task.stage'; extra?: Record<string, JsonValue> }[];
}

export interface NewLogLine {
  at: Date;
  level: TaskLogLine['level'];
  message: string;
  fields?: Record<string, JsonValue>;
}

/**
 * The task engine's storage. Every state change of a claimed task is conditional on the
 * caller still holding its lease (`lease_owner = workerId AND status = 'running'` at the same
 * attempt), so a worker that lost its lease can never overwrite the work of the next holder,
 * even when the next holder is itself. Every state change appends its `task.*` events in the
 * same unit of work (see tasks/event-data.ts).
 */
export interface TaskStore {
  /**
   * Inserts tasks (fair-queue positions allocated per priority and submitter). A task whose
   * (submitter, idempotencyKey) already exists, created after `idempotentSince`, is not inserted:
   * the existing one is returned with `created: false`. Older keys are released for reuse.
   */
  insert(
    tasks: readonly NewTask[],
    now: Date,
    idempotentSince: Date,
    change?: ChangeContext,
  ): Promise<{ task: TaskRecord; created: boolean }[]>;
  get(id: string): Promise<TaskRecord | null>;
  list(query: TaskListQuery): Promise<TaskRecord[]>;
  /** Claims up to `limit` due pending tasks in the slot class's order and marks them running. */
  claim(request: ClaimRequest, now: Date, change?: ChangeContext): Promise<TaskRecord[]>;
  /**
   * Renews the leases still held and not yet expired at `now` (an expired lease may already be
   * reaped: its holder must not bring it back); reports which are held and which have a cancel request.
   */
  heartbeat(
    workerId: string,
    ids: readonly string[],
    leaseExpiresAt: Date,
    now: Date,
  ): Promise<{ held: string[]; cancelRequested: string[] }>;
  /** Writes progress; appends `announce`'s events (progress, stage) with it when the write applies. */
  updateProgress(
    workerId: string,
    id: string,
    attempt: number,
    update: TaskProgressUpdate,
    announce?: ProgressAnnouncement,
  ): Promise<boolean>;
  /** Writes outcomes of attempts held by `workerId`; returns the statuses actually written. */
  finish(
    workerId: string,
    outcomes: readonly TaskOutcome[],
    now: Date,
    change?: ChangeContext,
  ): Promise<{ id: string; status: TaskStatus }[]>;
  /** Pending (or schedule) → cancelled; running → cancel requested. Null when unknown. */
  requestCancel(id: string, now: Date, change?: ChangeContext): Promise<TaskRecord | null>;
  /** Failed or cancelled (not a schedule) → pending with a fresh attempt budget; null otherwise. */
  retry(id: string, now: Date, change?: ChangeContext): Promise<TaskRecord | null>;
  /** An active schedule → cancelled; null otherwise. */
  stopSchedule(id: string, now: Date, change?: ChangeContext): Promise<TaskRecord | null>;
  /**
   * Appends lines in order; past `cap` lines, one "log truncated" line and nothing more. Stored
   * lines are announced by one `task.log` event.
   */
  appendLogs(id: string, lines: readonly NewLogLine[], cap: number, change?: ChangeContext): Promise<void>;
  readLogs(id: string, after: number, limit: number): Promise<TaskLogLine[]>;
  /** Running tasks whose lease expired → pending (or failed when out of attempts). */
  reapExpiredLeases(now: Date, limit: number, change?: ChangeContext): Promise<TaskRecord[]>;
  /** Active schedules whose next occurrence is due. */
  dueSchedules(now: Date, limit: number): Promise<TaskRecord[]>;
  /**
   * Atomically: if the schedule is still active and at `expectedRunAt`, inserts `run` and moves
   * the schedule to `nextRunAt` (or completes it when null). Returns the run, or null.
   */
  spawnOccurrence(
    scheduleId: string,
    expectedRunAt: Date,
    run: NewTask,
    nextRunAt: Date | null,
    now: Date,
    change?: ChangeContext,
  ): Promise<TaskRecord | null>;
  /** Deletes up to `limit` final tasks (and their logs) finished strictly before `before`. */
  purgeFinished(before: Date, limit: number): Promise<number>;
  /** Pending tasks (not schedules) per priority. */
  queueDepths(): Promise<Record<TaskPriority, number>>;
  /** Due pending critical tasks of these types (at most `limit`). */
  countDueCritical(now: Date, types: readonly string[], limit: number): Promise<number>;
}

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
 * The durable event log. Writers append in their own unit of work (PostgreSQL: unsequenced
 * rows, see `appendEvents`); {@link EventStore.sequencePending} numbers committed events so
 * that readers, who read sequenced events only, never find a new event below one they saw.
 */
export interface EventStore {
  /** Appends events on their own (client events: `custom.*`). */
  append(events: readonly NewEvent[]): Promise<void>;
  /**
   * Numbers every committed unsequenced event (one pass at a time across all nodes). Returns
   * the highest seq it assigned (null when it numbered nothing); `busy` when another pass was
   * running (only without `wait`, which waits for it instead): that pass may have started
   * before some events committed, so look again soon.
   */
  sequencePending(options?: SequenceOptions): Promise<{ lastSeq: number | null; busy: boolean }>;
  /** Sequenced events with `seq > after`, oldest first. */
  readAfter(after: number, limit: number, filter?: EventFilter): Promise<EventRecord[]>;
  /** The seq of one event, null while unsequenced or unknown. */
  seqOf(id: string): Promise<number | null>;
  /** The smallest retained seq (null when the log is empty) and the highest sequenced one (0 when none). */
  bounds(): Promise<{ oldest: number | null; last: number }>;
  /** Deletes up to `limit` of the oldest events older than `before`, always keeping the newest one; returns how many. */
  purgeBefore(before: Date, limit: number): Promise<number>;
}

/** A document as stored (times are Dates). */
export interface DocRecord {
  path: string;
  /** The document holding its collection; `''` for a root collection. */
  parentPath: string;
  collection: string;
  id: string;
  data: JsonObject;
  version: number;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy: string;
  updatedBy: string;
}

/** One stored history entry (and change-feed entry); `data` is null for a deletion. */
export interface DocHistoryRecord {
  revision: number;
  path: string;
  parentPath: string;
  collection: string;
  id: string;
  version: number;
  op: 'create' | 'update' | 'delete';
  data: JsonObject | null;
  at: Date;
  actor: string;
}

/** What a write does to the state it finds: store this data, or delete. */
export type DocDecision = { kind: 'put'; data: JsonObject } | { kind: 'delete' };

/**
 * One write of a commit. The store reads the current state (including earlier writes of
 * the same commit), calls `decide`, and applies the answer; anything `decide` throws aborts
 * the whole commit, so preconditions and patches are checked atomically with the write.
 */
export interface DocStoreWrite {
  target: DocPathTarget;
  /** `descendants`: how many documents a recursive delete would remove below the path (0 otherwise). */
  decide(current: DocRecord | null, descendants: number): DocDecision;
  /** Delete the whole subtree too. `check` sees every path first (scope checks) and may throw. */
  recursive?: { check(paths: readonly string[]): void; maxDocuments: number };
}

/** Where a write goes (a parsed document path). */
export interface DocPathTarget {
  path: string;
  parentPath: string;
  collection: string;
  id: string;
}

/** The outcome of one write; `revision` null when it changed nothing (a recursive delete of nothing below a missing root). */
export interface DocWriteOutcome {
  path: string;
  op: 'create' | 'update' | 'delete' | 'none';
  revision: number | null;
  version: number | null;
  /** Documents deleted (the root and its subtree). */
  deleted: number;
  /** The document as written (null for a delete). */
  document: DocRecord | null;
}

export interface DocCommitOptions {
  now: Date;
  change: ChangeContext;
  /** Keep at most this many history entries per path (null: unlimited). */
  maxHistoryVersions: number | null;
}

/** A query the store runs: scope, filter, order and keyset position are already parsed. */
export interface DocStoreQuery {
  scope:
    | { kind: 'collection'; parentPath: string; collection: string }
    /** Collection group: every collection with this id, only below `under/` when given. */
    | { kind: 'group'; collection: string; under: string | null };
  filter: FilterNode;
  order: readonly ResolvedOrderTerm[];
  /** Only documents whose sort key comes strictly after this one. */
  after: readonly SortValue[] | null;
  /** Glob patterns of readable paths (null: everything). */
  visibility: readonly string[] | null;
  limit: number;
}

export interface DocChangesQuery {
  /** An event-log seq: only changes whose `doc.*` event was numbered after it. */
  after: number;
  collection: string | null;
  /** Only paths starting with `under/`. */
  under: string | null;
  visibility: readonly string[] | null;
  limit: number;
}

/** One change-feed entry: a `doc.*` event of the event log, `seq` its number there. */
export interface DocChangeRecord {
  seq: number;
  revision: number;
  path: string;
  collection: string;
  id: string;
  version: number;
  op: 'create' | 'update' | 'delete';
  at: Date;
  actor: string;
}

/**
 * The document store's storage. Every commit is atomic (all writes or none), takes one new
 * revision per document it changes, records history and appends one `doc.*` event per change
 * in the same unit of work. Revisions increase but may commit out of order; the change feed
 * reads the `doc.*` events in seq order instead, which the event log makes visible in order.
 */
export interface DocStore {
  get(path: string): Promise<DocRecord | null>;
  commit(writes: readonly DocStoreWrite[], options: DocCommitOptions): Promise<DocWriteOutcome[]>;
  query(query: DocStoreQuery): Promise<DocRecord[]>;
  /** Collection ids directly below a document (`''`: root), in id order, after `afterId`. */
  collections(parentPath: string, afterId: string | null, limit: number): Promise<string[]>;
  /** A path's history, newest first, below `beforeRevision` when given. */
  history(path: string, beforeRevision: number | null, limit: number): Promise<DocHistoryRecord[]>;
  /** The newest history entry of `path` at `version`. */
  historyVersion(path: string, version: number): Promise<DocHistoryRecord | null>;
  /**
   * The `doc.*` events with a seq above `query.after` that match it, in seq order, and the
   * highest sequenced seq of the whole log read in the same snapshot (every event up to it
   * is already visible).
   */
  changes(query: DocChangesQuery): Promise<{ records: DocChangeRecord[]; lastSeq: number }>;
  /**
   * Deletes up to `limit` history entries older than `before`, keeping the newest entry of
   * every path unless it is a deletion; returns how many.
   */
  pruneHistory(before: Date, limit: number): Promise<number>;
}
