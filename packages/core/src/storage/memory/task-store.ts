import { outcomeEventType, TASK_EVENTS, taskEvent } from '../../tasks/event-data.js';
import { logEventExtra } from '../../tasks/log-event.js';
import type { TaskLogLine, TaskPriority, TaskStatus } from '../../tasks/types.js';
import { SYSTEM_CHANGE } from '../change-context.js';
import type {
  ChangeContext,
  ClaimRequest,
  NewEvent,
  NewLogLine,
  NewTask,
  Notifier,
  ProgressAnnouncement,
  TaskHandoff,
  TaskInsertOptions,
  TaskListQuery,
  TaskOutcome,
  TaskProgressUpdate,
  TaskRecord,
  TaskStore,
} from '../ports.js';
import { publishWakeUps } from '../wake-ups.js';
import { MemoryEventLog } from './event-log.js';
import { createInProcessNotifier } from './notifier.js';
import { TaskLineup } from './task-lineup.js';
import { MemoryTaskLogs } from './task-logs.js';
import {
  applyOutcome,
  copy,
  FINAL,
  markClaimed,
  markLeaseExpired,
  matchesListQuery,
  newTaskRecord,
} from './task-records.js';

/**
 * The task store in process memory, with the PostgreSQL store's guarantees: no method awaits
 * in between, so each is atomic (a claim cannot race another claim, at most one running task
 * per concurrency key, lease-conditional writes). Pending tasks sit in one sorted queue per
 * priority, so a claim reads the head of the line instead of scanning every task. Every
 * change appends its events to the shared event log in the same synchronous step.
 *
 * Where tasks stand in line (queues, running tasks, fair-queuing lanes) is task-lineup's, the
 * logs are task-logs', and each record's field changes are task-records'; this class owns the
 * records and ties those together with the events.
 *
 * @example
 * const store = new MemoryTaskStore();
 * const [claimed] = await store.claim({ workerId: 'w1', slotClass: 'normal', limit: 1, types: ['x'], leaseExpiresAt, agedBefore }, now);
 */
export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly lineup = new TaskLineup();
  private readonly idempotency = new Map<string, string>();
  private readonly logs = new MemoryTaskLogs();

  constructor(
    private readonly log: MemoryEventLog = new MemoryEventLog(),
    private readonly notifier: Notifier = createInProcessNotifier(),
  ) {}

  async insert(
    tasks: readonly NewTask[],
    now: Date,
    idempotentSince: Date,
    change: ChangeContext = SYSTEM_CHANGE,
    options: TaskInsertOptions = {},
  ): Promise<{ task: TaskRecord; created: boolean }[]> {
    const events: NewEvent[] = [];
    const out = tasks.map((task) => {
      const idemKey = task.idempotencyKey === null ? null : `${task.submitter}\u0000${task.idempotencyKey}`;
      const existing = idemKey === null ? undefined : this.tasks.get(this.idempotency.get(idemKey) ?? '');
      if (existing && existing.createdAt.getTime() > idempotentSince.getTime()) {
        return { record: existing, created: false };
      }
      if (existing) existing.idempotencyKey = null;
      const record = this.create(task, now);
      if (idemKey !== null) this.idempotency.set(idemKey, record.id);
      events.push(taskEvent(change, TASK_EVENTS.submitted, record, now));
      return { record, created: true };
    });
    this.log.append(events);
    const [only] = out;
    if (options.handoff && out.length === 1 && only?.created) this.handOver(only.record, options.handoff, now);
    await publishWakeUps(this.notifier, options.wakeUps ?? []);
    return out.map(({ record, created }) => ({ task: copy(record), created }));
  }

  /** Claims `record` for the offering slot when it is the only task that slot's claim could take (see TaskHandoff). */
  private handOver(record: TaskRecord, { claim, change }: TaskHandoff, now: Date): void {
    if (record.concurrencyKey !== null || record.isSchedule) return;
    const claimable = this.lineup.pickClaimable({ ...claim, limit: 2 }, now);
    if (claimable.length !== 1 || claimable[0] !== record) return;
    this.lineup.leavePending(record);
    markClaimed(record, claim, now);
    this.lineup.enterRunning(record);
    this.log.append([taskEvent(change, TASK_EVENTS.started, record, now)]);
  }

  async get(id: string): Promise<TaskRecord | null> {
    const record = this.tasks.get(id);
    return record ? copy(record) : null;
  }

  async list(query: TaskListQuery): Promise<TaskRecord[]> {
    const ids = [...this.tasks.keys()].sort().reverse();
    const out: TaskRecord[] = [];
    for (const id of ids) {
      if (out.length >= query.limit) break;
      if (query.beforeId !== undefined && id >= query.beforeId) continue;
      const r = this.tasks.get(id) as TaskRecord;
      if (matchesListQuery(r, query)) out.push(copy(r));
    }
    return out;
  }

  async claim(request: ClaimRequest, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    const picked =
      request.taskId === undefined
        ? this.lineup.pickClaimable(request, now)
        : this.lineup.pickNamed(this.tasks.get(request.taskId), request, now);
    for (const r of picked) {
      this.lineup.leavePending(r);
      markClaimed(r, request, now);
      this.lineup.enterRunning(r);
    }
    this.log.append(picked.map((r) => taskEvent(change, TASK_EVENTS.started, r, now)));
    return picked.map(copy);
  }

  async heartbeat(workerId: string, ids: readonly string[], leaseExpiresAt: Date, now: Date) {
    const held: string[] = [];
    const cancelRequested: string[] = [];
    for (const id of ids) {
      const r = this.lineup.held(workerId, id);
      if (!r || (r.leaseExpiresAt?.getTime() ?? 0) <= now.getTime()) continue;
      r.leaseExpiresAt = new Date(leaseExpiresAt);
      held.push(id);
      if (r.cancelRequested) cancelRequested.push(id);
    }
    return { held, cancelRequested };
  }

  async updateProgress(
    workerId: string,
    id: string,
    attempt: number,
    update: TaskProgressUpdate,
    announce?: ProgressAnnouncement,
  ): Promise<boolean> {
    const r = this.lineup.held(workerId, id, attempt);
    if (!r) return false;
    Object.assign(r, structuredClone(update));
    if (announce) {
      const at = announce.change.at ?? new Date();
      this.log.append(announce.events.map((e) => taskEvent(announce.change, e.type, r, at, e.extra)));
    }
    return true;
  }

  async finish(workerId: string, outcomes: readonly TaskOutcome[], now: Date, change: ChangeContext = SYSTEM_CHANGE) {
    const written: { id: string; status: TaskStatus }[] = [];
    const events: NewEvent[] = [];
    for (const outcome of outcomes) {
      const r = this.lineup.held(workerId, outcome.id, outcome.attempt);
      if (!r) continue;
      this.lineup.leaveRunning(r);
      const status = applyOutcome(r, outcome, now);
      if (status === 'pending') this.lineup.enterPending(r);
      written.push({ id: r.id, status });
      events.push(taskEvent(change, outcomeEventType(status, outcome.release), r, now));
    }
    this.log.append(events);
    return written;
  }

  async requestCancel(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    const r = this.tasks.get(id);
    if (!r) return null;
    if (r.status === 'pending') {
      if (!r.isSchedule) this.lineup.leavePending(r);
      Object.assign(r, { status: 'cancelled', finishedAt: new Date(now) } satisfies Partial<TaskRecord>);
      this.log.append([taskEvent(change, TASK_EVENTS.cancelled, r, now)]);
    } else if (r.status === 'running') {
      r.cancelRequested = true;
    }
    return copy(r);
  }

  async retry(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    const r = this.tasks.get(id);
    if (!r || r.isSchedule || (r.status !== 'failed' && r.status !== 'cancelled')) return null;
    Object.assign(r, {
      status: 'pending',
      attempt: 0,
      error: null,
      result: null,
      cancelRequested: false,
      runAt: new Date(now),
      startedAt: null,
      finishedAt: null,
    } satisfies Partial<TaskRecord>);
    this.lineup.enterPending(r);
    this.log.append([taskEvent(change, TASK_EVENTS.retrying, r, now)]);
    return copy(r);
  }

  async stopSchedule(id: string, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord | null> {
    const r = this.tasks.get(id);
    if (!r?.isSchedule || r.status !== 'pending') return null;
    Object.assign(r, { status: 'cancelled', finishedAt: new Date(now) } satisfies Partial<TaskRecord>);
    this.log.append([taskEvent(change, TASK_EVENTS.cancelled, r, now)]);
    return copy(r);
  }

  async appendLogs(
    id: string,
    lines: readonly NewLogLine[],
    cap: number,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<void> {
    const r = this.tasks.get(id);
    if (!r) return;
    const stored = this.logs.append(id, lines, cap);
    if (stored.length > 0) {
      const at = change.at ?? stored.at(-1)?.at ?? new Date().toISOString();
      this.log.append([taskEvent(change, TASK_EVENTS.log, r, new Date(at), logEventExtra(stored))]);
    }
  }

  async readLogs(id: string, after: number, limit: number): Promise<TaskLogLine[]> {
    return this.logs.read(id, after, limit);
  }

  async reapExpiredLeases(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    const reaped: TaskRecord[] = [];
    for (const r of this.lineup.runningTasks()) {
      if (reaped.length >= limit) break;
      if ((r.leaseExpiresAt?.getTime() ?? 0) > now.getTime()) continue;
      this.lineup.leaveRunning(r);
      const status = markLeaseExpired(r, now);
      if (status === 'pending') this.lineup.enterPending(r);
      reaped.push(copy(r));
    }
    this.log.append(reaped.map((r) => taskEvent(change, outcomeEventType(r.status, false), r, now)));
    return reaped;
  }

  async dueSchedules(now: Date, limit: number): Promise<TaskRecord[]> {
    const due = [...this.tasks.values()].filter(
      (r) => r.isSchedule && r.status === 'pending' && r.runAt.getTime() <= now.getTime(),
    );
    return due
      .sort((a, b) => a.runAt.getTime() - b.runAt.getTime())
      .slice(0, limit)
      .map(copy);
  }

  async spawnOccurrence(
    scheduleId: string,
    expectedRunAt: Date,
    run: NewTask,
    nextRunAt: Date | null,
    now: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ) {
    const s = this.tasks.get(scheduleId);
    if (!s?.isSchedule || s.status !== 'pending' || s.runAt.getTime() !== expectedRunAt.getTime()) return null;
    const child = this.create(run, now);
    s.runCount += 1;
    if (nextRunAt) s.runAt = new Date(nextRunAt);
    else Object.assign(s, { status: 'completed', finishedAt: new Date(now) } satisfies Partial<TaskRecord>);
    const events = [taskEvent(change, TASK_EVENTS.submitted, child, now)];
    if (!nextRunAt) events.push(taskEvent(change, TASK_EVENTS.completed, s, now));
    this.log.append(events);
    return copy(child);
  }

  async purgeFinished(before: Date, limit: number): Promise<number> {
    let purged = 0;
    for (const r of [...this.tasks.values()]) {
      if (purged >= limit) break;
      if (!FINAL.has(r.status) || (r.finishedAt?.getTime() ?? Number.POSITIVE_INFINITY) >= before.getTime()) continue;
      this.tasks.delete(r.id);
      this.logs.delete(r.id);
      if (r.idempotencyKey !== null) this.idempotency.delete(`${r.submitter}\u0000${r.idempotencyKey}`);
      purged++;
    }
    return purged;
  }

  async queueDepths(): Promise<Record<TaskPriority, number>> {
    return this.lineup.depths();
  }

  async countDueCritical(now: Date, types: readonly string[], limit: number): Promise<number> {
    return this.lineup.countDueCritical(now, types, limit);
  }

  private create(task: NewTask, now: Date): TaskRecord {
    const fairSeq = task.isSchedule ? 0 : this.lineup.allocateSeq(task.priority, task.submitter, now);
    const record = newTaskRecord(task, now, fairSeq);
    this.tasks.set(record.id, record);
    if (!record.isSchedule) this.lineup.enterPending(record);
    return record;
  }
}
