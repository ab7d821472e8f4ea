/** The task engine's store port; the records it reads and writes are in ./task-records.ts. */
import type { TaskLogLine, TaskPriority, TaskStatus } from '../../tasks/types.js';
import type { ChangeContext } from './events.js';
import type { WakeUp } from './notifier.js';
import type {
  ClaimedTask,
  ClaimRequest,
  NewLogLine,
  NewTask,
  ProgressAnnouncement,
  TaskListQuery,
  TaskOutcome,
  TaskProgressUpdate,
  TaskRecord,
} from './task-records.js';

/** What {@link TaskStore.insert} does besides inserting. */
export interface TaskInsertOptions {
  /**
   * Published (best effort) once the insert committed; on a PostgreSQL server they travel
   * right behind the insert on its connection, which saves the other nodes' workers a round
   * trip before they hear of the new work.
   */
  wakeUps?: readonly WakeUp[];
  /** An idle local slot's offer to run the one task inserted at once (see {@link TaskHandoff}). */
  handoff?: TaskHandoff;
}

/**
 * Direct handoff: a worker with an idle slot offers to take the one task being submitted, so it
 * starts without a claim round trip. The store inserts the task already claimed (running,
 * attempt 1, leased to `claim.workerId` until `claim.leaseExpiresAt`, with its `task.started`
 * event, by `change`) when the task is due, has no concurrency key, is of one of `claim.types`,
 * and no other due pending task exists that `claim` could take (so the task jumps no line);
 * otherwise it is inserted pending as usual.
 */
export interface TaskHandoff {
  claim: ClaimRequest;
  change: ChangeContext;
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
    options?: TaskInsertOptions,
  ): Promise<{ task: TaskRecord; created: boolean }[]>;
  get(id: string): Promise<TaskRecord | null>;
  list(query: TaskListQuery): Promise<TaskRecord[]>;
  /** Claims up to `limit` due pending tasks in the slot class's order and marks them running. */
  claim(request: ClaimRequest, now: Date, change?: ChangeContext): Promise<ClaimedTask[]>;
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
