import type { TaskPriority } from '../../tasks/types.js';
import type { ClaimRequest, TaskRecord } from '../ports.js';
import { CLAIM_ORDER, PendingQueue, priorityOfRank } from './task-queue.js';

const PRIORITIES: readonly TaskPriority[] = ['critical', 'normal', 'batch'];

/**
 * Where the memory store's live tasks stand in line: one sorted pending queue per priority, the
 * running tasks with their concurrency keys, and the fair-queuing lanes. It indexes the store's
 * own (mutable) records; the store changes their fields and moves them in and out of line here.
 */
export class TaskLineup {
  private readonly pending = new Map<TaskPriority, PendingQueue>(PRIORITIES.map((p) => [p, new PendingQueue()]));
  private readonly running = new Map<string, TaskRecord>();
  private readonly runningKeys = new Set<string>();
  private readonly lanes = new Map<string, number>();
  private readonly laneMax = new Map<TaskPriority, number>();

  /**
   * The due pending tasks a claim takes, in the slot class's claim order: a claim reads the
   * head of each line, at most one task per concurrency key and none whose key is running.
   */
  pickClaimable(request: ClaimRequest, now: Date): TaskRecord[] {
    const types = new Set(request.types);
    const nowMs = now.getTime();
    const agedMs = request.agedBefore.getTime();
    const picked: TaskRecord[] = [];
    const keys = new Set<string>();
    for (const rank of CLAIM_ORDER[request.slotClass]) {
      const queue = this.queue(priorityOfRank(rank));
      for (const r of queue) {
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
    return picked;
  }

  /** `record` alone, when the class's claim could take it (a named claim: see ClaimRequest.taskId). */
  pickNamed(record: TaskRecord | undefined, request: ClaimRequest, now: Date): TaskRecord[] {
    if (record?.status !== 'pending' || record.isSchedule) return [];
    const classTakes = CLAIM_ORDER[request.slotClass].some((rank) => priorityOfRank(rank) === record.priority);
    if (!classTakes || !request.types.includes(record.type) || record.runAt.getTime() > now.getTime()) return [];
    if (record.concurrencyKey !== null && this.runningKeys.has(record.concurrencyKey)) return [];
    return [record];
  }

  /** The running task `workerId` holds (at `attempt`, when given), or undefined. */
  held(workerId: string, id: string, attempt?: number): TaskRecord | undefined {
    const r = this.running.get(id);
    return r && r.leaseOwner === workerId && (attempt === undefined || r.attempt === attempt) ? r : undefined;
  }

  /** The running tasks, as a snapshot (safe to change the lineup while iterating it). */
  runningTasks(): TaskRecord[] {
    return [...this.running.values()];
  }

  enterPending(r: TaskRecord): void {
    this.queue(r.priority).add(r);
  }

  leavePending(r: TaskRecord): void {
    this.queue(r.priority).remove(r);
  }

  enterRunning(r: TaskRecord): void {
    this.running.set(r.id, r);
    if (r.concurrencyKey !== null) this.runningKeys.add(r.concurrencyKey);
  }

  leaveRunning(r: TaskRecord): void {
    this.running.delete(r.id);
    if (r.concurrencyKey !== null) this.runningKeys.delete(r.concurrencyKey);
  }

  /** Start-time fair queuing: see the PostgreSQL store's `allocateFairSeq` for the rule. */
  allocateSeq(priority: TaskPriority, submitter: string, now: Date): number {
    const lane = `${priority}\u0000${submitter}`;
    const head = this.queue(priority).headSeq(now.getTime());
    const start = head ?? (this.laneMax.get(priority) ?? 0) + 1;
    const last = this.lanes.get(lane);
    const seq = last === undefined ? start : Math.max(last + 1, start);
    this.lanes.set(lane, seq);
    this.laneMax.set(priority, Math.max(this.laneMax.get(priority) ?? 0, seq));
    return seq;
  }

  /** Pending tasks (not schedules) per priority. */
  depths(): Record<TaskPriority, number> {
    const depth = (p: TaskPriority) => this.queue(p).size;
    return { critical: depth('critical'), normal: depth('normal'), batch: depth('batch') };
  }

  /** Due pending critical tasks of these types (at most `limit`). */
  countDueCritical(now: Date, types: readonly string[], limit: number): number {
    const allowed = new Set(types);
    let count = 0;
    for (const r of this.queue('critical')) {
      if (count >= limit) break;
      if (r.runAt.getTime() <= now.getTime() && allowed.has(r.type)) count++;
    }
    return count;
  }

  private queue(priority: TaskPriority): PendingQueue {
    return this.pending.get(priority) as PendingQueue;
  }
}
