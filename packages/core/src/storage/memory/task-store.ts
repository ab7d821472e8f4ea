import type { JsonValue } from '../../kv/types.js';
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
  ProgressAnnouncement,
  TaskListQuery,
  TaskOutcome,
  TaskProgressUpdate,
  TaskRecord,
  TaskStore,
} from '../ports.js';
import { MemoryEventLog } from './event-log.js';
import { CLAIM_ORDER, PendingQueue, priorityOfRank } from './task-queue.js';

const PRIORITIES: readonly TaskPriority[] = ['critical', 'normal', 'batch'];
const FINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

function copy(record: TaskRecord): TaskRecord {
  return structuredClone(record);
}

/**
 * The task store in process memory, with the PostgreSQL store's guarantees: no method awaits
 * in between, so each is atomic (a claim cannot race another claim, at most one running task
 * per concurrency key, lease-conditional writes). Pending tasks sit in one sorted queue per
 * priority, so a claim reads the head of the line instead of scanning every task. Every
 * change appends its events to the shared event log in the same synchronous step.
 *
 * @example
 * const store = new MemoryTaskStore();
 * const [claimed] = await store.claim({ workerId: 'w1', slotClass: 'normal', limit: 1, types: ['x'], leaseExpiresAt, agedBefore }, now);
 */
export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly pending = new Map<TaskPriority, PendingQueue>(PRIORITIES.map((p) => [p, new PendingQueue()]));
  private readonly running = new Map<string, TaskRecord>();
  private readonly runningKeys = new Set<string>();
  private readonly idempotency = new Map<string, string>();
  private readonly lanes = new Map<string, number>();
  private readonly laneMax = new Map<TaskPriority, number>();
  private readonly logs = new Map<string, TaskLogLine[]>();

  constructor(private readonly log: MemoryEventLog = new MemoryEventLog()) {}

  async insert(
    tasks: readonly NewTask[],
    now: Date,
    idempotentSince: Date,
    change: ChangeContext = SYSTEM_CHANGE,
  ): Promise<{ task: TaskRecord; created: boolean }[]> {
    const events: NewEvent[] = [];
    const out = tasks.map((task) => {
      const idemKey = task.idempotencyKey === null ? null : `${task.submitter}\u0000${task.idempotencyKey}`;
      const existing = idemKey === null ? undefined : this.tasks.get(this.idempotency.get(idemKey) ?? '');
      if (existing && existing.createdAt.getTime() > idempotentSince.getTime()) {
        return { task: copy(existing), created: false };
      }
      if (existing) existing.idempotencyKey = null;
      const record = this.create(task, now);
      if (idemKey !== null) this.idempotency.set(idemKey, record.id);
      events.push(taskEvent(change, TASK_EVENTS.submitted, record, now));
      return { task: copy(record), created: true };
    });
    this.log.append(events);
    return out;
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
      if (query.status !== undefined && r.status !== query.status) continue;
      if (query.type !== undefined && r.type !== query.type) continue;
      if (query.priority !== undefined && r.priority !== query.priority) continue;
      if (query.tag !== undefined && !r.tags.includes(query.tag)) continue;
      if (query.submitter !== undefined && r.submitter !== query.submitter) continue;
      if (query.parentId !== undefined && r.parentId !== query.parentId) continue;
      out.push(copy(r));
    }
    return out;
  }

  async claim(request: ClaimRequest, now: Date, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    const types = new Set(request.types);
    const nowMs = now.getTime();
    const agedMs = request.agedBefore.getTime();
    const picked: TaskRecord[] = [];
    const keys = new Set<string>();
    for (const rank of CLAIM_ORDER[request.slotClass]) {
      const queue = this.pending.get(priorityOfRank(rank)) as PendingQueue;
      for (const r of queue.items) {
        if (picked.length >= request.limit) break;
        const due = r.runAt.getTime();
        if (due > nowMs || !types.has(r.type)) continue;
        if (rank === 'aged-batch' && due > agedMs) continue;
        if (rank === 'fresh-batch' && due <= agedMs) continue;
        if (r.concurrencyKey !== null && (this.runningKeys.has(r.concurrencyKey) || keys.has(r.concurrencyKey))) {
          continue;
        }
        if (picked.includes(r)) continue;
        picked.push(r);
        if (r.concurrencyKey !== null) keys.add(r.concurrencyKey);
      }
    }
    for (const r of picked) {
      this.leavePending(r);
      Object.assign(r, {
        status: 'running',
        attempt: r.attempt + 1,
        leaseOwner: request.workerId,
        leaseExpiresAt: new Date(request.leaseExpiresAt),
        startedAt: new Date(now),
        progress: null,
        stage: null,
        stages: [],
      } satisfies Partial<TaskRecord>);
      this.running.set(r.id, r);
      if (r.concurrencyKey !== null) this.runningKeys.add(r.concurrencyKey);
    }
    this.log.append(picked.map((r) => taskEvent(change, TASK_EVENTS.started, r, now)));
    return picked.map(copy);
  }

  async heartbeat(workerId: string, ids: readonly string[], leaseExpiresAt: Date, now: Date) {
    const held: string[] = [];
    const cancelRequested: string[] = [];
    for (const id of ids) {
      const r = this.held(workerId, id);
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
    const r = this.held(workerId, id, attempt);
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
      const r = this.held(workerId, outcome.id, outcome.attempt);
      if (!r) continue;
      this.leaveRunning(r);
      const status = r.cancelRequested ? 'cancelled' : outcome.status;
      Object.assign(r, {
        status,
        progress: outcome.progress,
        stage: outcome.stage,
        stages: structuredClone(outcome.stages),
        result: structuredClone(outcome.result),
        error: outcome.error,
        leaseOwner: null,
        leaseExpiresAt: null,
        finishedAt: FINAL.has(status) ? new Date(now) : null,
      } satisfies Partial<TaskRecord>);
      if (status === 'pending') {
        if (outcome.release) {
          r.attempt -= 1;
          r.startedAt = null;
        } else if (outcome.runAt) {
          r.runAt = new Date(outcome.runAt);
        }
        this.enterPending(r);
      }
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
      if (!r.isSchedule) this.leavePending(r);
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
    this.enterPending(r);
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
    const log = this.logs.get(id) ?? [];
    this.logs.set(id, log);
    const stored: TaskLogLine[] = [];
    this.appendLines(log, lines, cap, stored);
    if (stored.length > 0) {
      const at = change.at ?? stored.at(-1)?.at ?? new Date().toISOString();
      this.log.append([taskEvent(change, TASK_EVENTS.log, r, new Date(at), logEventExtra(stored))]);
    }
  }

  private appendLines(log: TaskLogLine[], lines: readonly NewLogLine[], cap: number, stored: TaskLogLine[]): void {
    for (const line of lines) {
      if (log.length > cap) return;
      if (log.length === cap) {
        const truncated: TaskLogLine = {
          seq: cap + 1,
          at: line.at.toISOString(),
          level: 'warn',
          message: 'log truncated',
        };
        log.push(truncated);
        stored.push(truncated);
        return;
      }
      const entry: TaskLogLine = {
        seq: log.length + 1,
        at: line.at.toISOString(),
        level: line.level,
        message: line.message,
        ...(line.fields ? { fields: structuredClone(line.fields) as Record<string, JsonValue> } : {}),
      };
      log.push(entry);
      stored.push(entry);
    }
  }

  async readLogs(id: string, after: number, limit: number): Promise<TaskLogLine[]> {
    return structuredClone((this.logs.get(id) ?? []).filter((line) => line.seq > after).slice(0, limit));
  }

  async reapExpiredLeases(now: Date, limit: number, change: ChangeContext = SYSTEM_CHANGE): Promise<TaskRecord[]> {
    const reaped: TaskRecord[] = [];
    for (const r of [...this.running.values()]) {
      if (reaped.length >= limit) break;
      if ((r.leaseExpiresAt?.getTime() ?? 0) > now.getTime()) continue;
      this.leaveRunning(r);
      const exhausted = r.attempt >= r.maxAttempts;
      const status: TaskStatus = r.cancelRequested ? 'cancelled' : exhausted ? 'failed' : 'pending';
      Object.assign(r, {
        status,
        leaseOwner: null,
        leaseExpiresAt: null,
        error: {
          code: 'LEASE_EXPIRED',
          message: 'the process running the task stopped renewing its lease',
          retryable: true,
        },
        finishedAt: status === 'pending' ? null : new Date(now),
      } satisfies Partial<TaskRecord>);
      if (status === 'pending') this.enterPending(r);
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
    const depth = (p: TaskPriority) => (this.pending.get(p) as PendingQueue).size;
    return { critical: depth('critical'), normal: depth('normal'), batch: depth('batch') };
  }

  async countDueCritical(now: Date, types: readonly string[], limit: number): Promise<number> {
    const allowed = new Set(types);
    let count = 0;
    for (const r of (this.pending.get('critical') as PendingQueue).items) {
      if (count >= limit) break;
      if (r.runAt.getTime() <= now.getTime() && allowed.has(r.type)) count++;
    }
    return count;
  }

  private create(task: NewTask, now: Date): TaskRecord {
    const record: TaskRecord = {
      ...structuredClone(task),
      status: 'pending',
      result: null,
      error: null,
      attempt: 0,
      progress: null,
      stage: null,
      stages: [],
      createdAt: new Date(now),
      startedAt: null,
      finishedAt: null,
      runCount: 0,
      cancelRequested: false,
      leaseOwner: null,
      leaseExpiresAt: null,
      fairSeq: task.isSchedule ? 0 : this.allocateSeq(task.priority, task.submitter, now),
    };
    this.tasks.set(record.id, record);
    if (!record.isSchedule) this.enterPending(record);
    return record;
  }

  /** Start-time fair queuing: see the PostgreSQL store's `allocateFairSeq` for the rule. */
  private allocateSeq(priority: TaskPriority, submitter: string, now: Date): number {
    const lane = `${priority}\u0000${submitter}`;
    const head = (this.pending.get(priority) as PendingQueue).headSeq(now.getTime());
    const start = head ?? (this.laneMax.get(priority) ?? 0) + 1;
    const last = this.lanes.get(lane);
    const seq = last === undefined ? start : Math.max(last + 1, start);
    this.lanes.set(lane, seq);
    this.laneMax.set(priority, Math.max(this.laneMax.get(priority) ?? 0, seq));
    return seq;
  }

  private held(workerId: string, id: string, attempt?: number): TaskRecord | undefined {
    const r = this.running.get(id);
    return r && r.leaseOwner === workerId && (attempt === undefined || r.attempt === attempt) ? r : undefined;
  }

  private enterPending(r: TaskRecord): void {
    (this.pending.get(r.priority) as PendingQueue).add(r);
  }

  private leavePending(r: TaskRecord): void {
    (this.pending.get(r.priority) as PendingQueue).remove(r);
  }

  private leaveRunning(r: TaskRecord): void {
    this.running.delete(r.id);
    if (r.concurrencyKey !== null) this.runningKeys.delete(r.concurrencyKey);
  }
}
