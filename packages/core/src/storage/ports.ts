/**
 * The storage interfaces, one per domain, with just the methods the domain's use cases need.
 * Implementations: memory (`@proserver/core/memory`) and one PostgreSQL implementation used
 * through both the `postgres` driver and PGlite. The current time is always passed in
 * (`now`): stores never read a clock of their own.
 */
import type { Role } from '../auth/types.js';
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
 * been swept yet.
 */
export interface KvStore {
  get(key: string, now: Date): Promise<KvRecord | null>;
  /** Inserts (replacing an expired entry); null when a live entry already has the key. */
  insert(entry: KvWrite, now: Date): Promise<KvRecord | null>;
  /** Inserts or replaces; a replaced expired entry starts again at version 1. */
  upsert(entry: KvWrite, now: Date): Promise<KvRecord>;
  /** Changes a live entry (only at `expectedVersion` when given); null when nothing matched. */
  update(key: string, change: KvChange, expectedVersion: number | undefined, now: Date): Promise<KvRecord | null>;
  /** Deletes a live entry (only at `expectedVersion` when given); the deleted record or null. */
  delete(key: string, expectedVersion: number | undefined, now: Date): Promise<KvRecord | null>;
  /**
   * Atomically adds `by`; a missing or expired key is created as `by` (from 0, no tags, no
   * expiry). Null when the live value is not a number.
   */
  increment(key: string, by: number, now: Date): Promise<KvRecord | null>;
  /** Live entries in key order (bytewise; keys are ASCII). */
  list(query: KvListQuery, now: Date): Promise<KvRecord[]>;
  /** Upserts all entries in one transaction: all or nothing. */
  importEntries(entries: readonly KvWrite[], now: Date): Promise<{ created: number; updated: number }>;
  /** Deletes up to `limit` expired entries; returns their keys. */
  deleteExpired(now: Date, limit: number): Promise<string[]>;
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
  createOwnerIfNone(owner: UserRecord, token: TokenRecord): Promise<boolean>;
  /** The oldest non-deleted owner. */
  findOwner(): Promise<UserRecord | null>;
  getUser(id: string): Promise<UserRecord | null>;
  insertUser(user: UserRecord): Promise<void>;
  /** Changes a user's role or marks it deleted (its tokens stop working at once). */
  updateUser(id: string, change: Partial<Pick<UserRecord, 'role' | 'deletedAt'>>): Promise<void>;
  insertToken(token: TokenRecord): Promise<void>;
  /**
   * The token whose current secret hash is `hash`, or whose previous hash is `hash` while
   * `previousSecretExpiresAt > now`, with its creator.
   */
  findTokenBySecretHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | null>;
  getToken(id: string): Promise<TokenRecord | null>;
  /** Ordered by id; `userId` restricts to one creator. */
  listTokens(query: { userId?: string; afterId?: string; limit: number }): Promise<TokenRecord[]>;
  /** Sets `revokedAt` if not yet set; returns the token as stored after, or null if unknown. */
  revokeToken(id: string, now: Date): Promise<TokenRecord | null>;
  /** Replaces the secret of a non-revoked token; null if unknown or revoked. */
  rotateToken(id: string, rotation: TokenRotation): Promise<TokenRecord | null>;
  /** Records a use (time and client IP). */
  touchToken(id: string, at: Date, ip: string | null): Promise<void>;
}

/** All the stores of one backend. `close()` releases its connections. */
export interface Storage {
  readonly kind: 'memory' | 'pglite' | 'postgres';
  readonly kv: KvStore;
  readonly auth: AuthStore;
  readonly tasks: TaskStore;
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
 * even when the next holder is itself.
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
  ): Promise<{ task: TaskRecord; created: boolean }[]>;
  get(id: string): Promise<TaskRecord | null>;
  list(query: TaskListQuery): Promise<TaskRecord[]>;
  /** Claims up to `limit` due pending tasks in the slot class's order and marks them running. */
  claim(request: ClaimRequest, now: Date): Promise<TaskRecord[]>;
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
  updateProgress(workerId: string, id: string, attempt: number, update: TaskProgressUpdate): Promise<boolean>;
  /** Writes outcomes of attempts held by `workerId`; returns the statuses actually written. */
  finish(workerId: string, outcomes: readonly TaskOutcome[], now: Date): Promise<{ id: string; status: TaskStatus }[]>;
  /** Pending (or schedule) → cancelled; running → cancel requested. Null when unknown. */
  requestCancel(id: string, now: Date): Promise<TaskRecord | null>;
  /** Failed or cancelled (not a schedule) → pending with a fresh attempt budget; null otherwise. */
  retry(id: string, now: Date): Promise<TaskRecord | null>;
  /** An active schedule → cancelled; null otherwise. */
  stopSchedule(id: string, now: Date): Promise<TaskRecord | null>;
  /** Appends lines in order; past `cap` lines, one "log truncated" line and nothing more. */
  appendLogs(id: string, lines: readonly NewLogLine[], cap: number): Promise<void>;
  readLogs(id: string, after: number, limit: number): Promise<TaskLogLine[]>;
  /** Running tasks whose lease expired → pending (or failed when out of attempts). */
  reapExpiredLeases(now: Date, limit: number): Promise<TaskRecord[]>;
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
