import { type SQL, sql } from 'drizzle-orm';
import { TASK_EVENTS, taskEvent } from '../../tasks/event-data.js';
import type { TaskLogLine, TaskPriority } from '../../tasks/types.js';
import { SYSTEM_CHANGE } from '../change-context.js';
import type {
  ChangeContext,
  ClaimedTask,
  ClaimRequest,
  NewLogLine,
  NewTask,
  Notifier,
  ProgressAnnouncement,
  TaskInsertOptions,
  TaskListQuery,
  TaskOutcome,
  TaskProgressUpdate,
  TaskRecord,
  TaskStore,
  WakeUp,
} from '../ports.js';
import { publishWakeUps } from '../wake-ups.js';
import type { PgDb } from './db.js';
import { appendEvents } from './event-append.js';
import { notifySql } from './notifier.js';
import { rowsOf, sqlStateOf, textList, timestamptz } from './sql-helpers.js';
import { requestTaskCancel, retryTask, stopTaskSchedule } from './task-changes.js';
import { claimStatement } from './task-claim.js';
import { fitsSingleStatement, insertedTasks, insertTasks, singleInsertStatement } from './task-insert.js';
import { finishTasks, renewLeases, writeProgress } from './task-lease-writes.js';
import { appendTaskLogs, readTaskLogs } from './task-logs.js';
import { purgeFinishedTasks, reapExpiredTaskLeases } from './task-maintenance.js';
import { countDueCriticalTasks, countPendingByPriority, getTask, listTasks, queryTasks } from './task-reads.js';
import { type ClaimedRow, taskColumns, toClaimedTask } from './task-rows.js';
import { selectDueSchedules, spawnScheduleOccurrence } from './task-schedules.js';
import type { WriteThen } from './transactions.js';

/** Attempts of a claim that lost a concurrency-key race before it gives up for this round. */
const CLAIM_RETRIES = 5;

function isUniqueViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23505';
}

/**
 * How a store on a PostgreSQL server sends wake-ups right behind a write: `writeThen` runs
 * statements back to back on one connection, `channel` names a notifier channel in SQL.
 */
export interface PipelinedWakeUps {
  writeThen: WriteThen;
  channel: (name: string) => string;
}

/**
 * The task store on PostgreSQL (either driver). Claims, completions, heartbeats and the reaper
 * are one statement each and work on batches; every write of a claimed task is conditional on
 * `lease_owner = workerId AND status = 'running'`. The current time is always a parameter.
 * Events: claims, outcomes and single-task changes insert theirs in the same statement (a
 * data-modifying CTE over the UPDATE's rows); multi-statement changes append them in their
 * transaction.
 *
 * Submits and claims are here; the other statements live in sibling modules by concern:
 * task-reads (lookups, counts), task-lease-writes (heartbeat, progress, outcomes), task-changes
 * (cancel, retry, stop a schedule), task-logs, task-schedules and task-maintenance (reaper, purge).
 *
 * @example
 * const store = new PgTaskStore(db, notifier);
 * const claimed = await store.claim({ workerId, slotClass: 'normal', limit: 4, types, leaseExpiresAt, agedBefore }, now);
 */
export class PgTaskStore implements TaskStore {
  /**
   * `pipelined` (PostgreSQL server): wake-ups are NOTIFY statements sent with the write;
   * without it (PGlite) they go through `notifier` once the write returned.
   */
  constructor(
    private readonly db: PgDb,
    private readonly notifier: Notifier,
    private readonly pipelined?: PipelinedWakeUps,
  ) {}

  /**
   * Runs `statement` (a single-statement insert) and answers the tasks it inserted, then
   * publishes `wakeUps`, unless `offeredId`, the one task offered to a local slot (see
   * TaskHandoff), was inserted claimed: then there is nothing for any other worker to claim, and
   * waking every other node's workers would only send each of them on a claim round that finds
   * nothing. Pipelined, the NOTIFYs run right after the write commits, in the same round trip,
   * and the write's result is answered without waiting for them (so PostgreSQL checks whether
   * the offered task is still pending); if the write fails they still run, which only makes a
   * worker look for work in vain.
   */
  private async insertWithWakeUps(
    statement: SQL,
    wakeUps: readonly WakeUp[],
    offeredId?: string,
  ): Promise<TaskRecord[]> {
    const { pipelined } = this;
    if (wakeUps.length === 0) return insertedTasks(await this.db.execute(statement));
    if (!pipelined) {
      const inserted = insertedTasks(await this.db.execute(statement));
      const claimed = inserted.some((task) => task.id === offeredId && task.status === 'running');
      if (!claimed) await publishWakeUps(this.notifier, wakeUps);
      return inserted;
    }
    const stillPending =
      offeredId === undefined
        ? undefined
        : sql`EXISTS (SELECT 1 FROM tasks WHERE id = ${offeredId} AND status = 'pending')`;
    const notifications = wakeUps.map((w) => notifySql(pipelined.channel(w.channel), w.payload, stillPending));
    return insertedTasks(await pipelined.writeThen(statement, notifications));
  }

  async insert(
    tasks: readonly NewTask[],
    now: Date,
    idempotentSince: Date,
    change: ChangeContext = SYSTEM_CHANGE,
    { wakeUps = [], handoff }: TaskInsertOptions = {},
  ) {
    if (fitsSingleStatement(tasks)) {
      const offeredId = handoff && tasks.length === 1 ? tasks[0]?.id : undefined;
      const statement = singleInsertStatement(tasks, now, change, handoff);
      const inserted = new Map((await this.insertWithWakeUps(statement, wakeUps, offeredId)).map((r) => [r.id, r]));
      return tasks.map((t) => ({ task: inserted.get(t.id) as TaskRecord, created: true }));
    }
    const out = await this.db.transaction(async (tx) => {
      const keyed = tasks.filter((t) => t.idempotencyKey !== null);
      for (const submitter of new Set(keyed.map((t) => t.submitter))) {
        // Keys older than the window are free again: detach them from their old task first.
        const keys = keyed.filter((t) => t.submitter === submitter).map((t) => t.idempotencyKey as string);
        await tx.execute(sql`
          UPDATE tasks SET idempotency_key = NULL
          WHERE submitter = ${submitter} AND idempotency_key = ${textList(keys)}
            AND created_at <= ${timestamptz(idempotentSince)}`);
      }
      const inserted = new Map((await insertTasks(tx, tasks, now)).map((r) => [r.id, r]));
      const out: { task: TaskRecord; created: boolean }[] = [];
      for (const task of tasks) {
        const record = inserted.get(task.id);
        if (record) {
          out.push({ task: record, created: true });
          continue;
        }
        const existing = await queryTasks(
          tx,
          sql`SELECT ${taskColumns()} FROM tasks
              WHERE submitter = ${task.submitter} AND idempotency_key = ${task.idempotencyKey}`,
        );
        if (!existing[0]) throw new Error(`task ${task.id} was neither inserted nor found by its idempotency key`);
        out.push({ task: existing[0], created: false });
      }
      await appendEvents(
        tx,
        out.filter((i) => i.created).map((i) => taskEvent(change, TASK_EVENTS.submitted, i.task, now)),
      );
      return out;
    });
    await publishWakeUps(this.notifier, wakeUps);
    return out;
  }

  async get(id: string): Promise<TaskRecord | null> {
    return getTask(this.db, id);
  }

  async list(query: TaskListQuery): Promise<TaskRecord[]> {
    return listTasks(this.db, query);
  }

  async claim(request: ClaimRequest, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<ClaimedTask[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return rowsOf<ClaimedRow>(await this.db.execute(claimStatement(request, now, change))).map(toClaimedTask);
      } catch (error) {
        // Another node started a task with the same concurrency key between our check and our
        // update. The unique index refused ours; its task is committed now, so a new claim skips the key.
        if (!isUniqueViolation(error) || attempt >= CLAIM_RETRIES) throw error;
      }
    }
  }

  async heartbeat(workerId: string, ids: readonly string[], leaseExpiresAt: Date, now: Date) {
    return renewLeases(this.db, workerId, ids, leaseExpiresAt, now);
  }

  async updateProgress(
    workerId: string,
    id: string,
    attempt: number,
    update: TaskProgressUpdate,
    announce?: ProgressAnnouncement,
  ): Promise<boolean> {
    return writeProgress(this.db, workerId, id, attempt, update, announce);
  }

  async finish(workerId: string, outcomes: readonly TaskOutcome[], now: Date, change: ChangeContext = SYSTEM_CHANGE) {
    return finishTasks(this.db, workerId, outcomes, now, change);
  }

  async requestCancel(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    return requestTaskCancel(this.db, id, now, change);
  }

  async retry(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    return retryTask(this.db, id, now, change);
  }

  async stopSchedule(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    return stopTaskSchedule(this.db, id, now, change);
  }

  async appendLogs(
    id: string,
    lines: readonly NewLogLine[],
    cap: number,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<void> {
    return appendTaskLogs(this.db, id, lines, cap, change);
  }

  async readLogs(id: string, after: number, limit: number): Promise<TaskLogLine[]> {
    return readTaskLogs(this.db, id, after, limit);
  }

  async reapExpiredLeases(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    return reapExpiredTaskLeases(this.db, now, limit, change);
  }

  async dueSchedules(now: Date, limit: number): Promise<TaskRecord[]> {
    return selectDueSchedules(this.db, now, limit);
  }

  async spawnOccurrence(
    scheduleId: string,
    expectedRunAt: Date,
    run: NewTask,
    nextRunAt: Date | null,
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ) {
    return spawnScheduleOccurrence(this.db, scheduleId, expectedRunAt, run, nextRunAt, now, change);
  }

  async purgeFinished(before: Date, limit: number): Promise<number> {
    return purgeFinishedTasks(this.db, before, limit);
  }

  async queueDepths(): Promise<Record<TaskPriority, number>> {
    return countPendingByPriority(this.db);
  }

  async countDueCritical(now: Date, types: readonly string[], limit: number): Promise<number> {
    return countDueCriticalTasks(this.db, now, types, limit);
  }
}
