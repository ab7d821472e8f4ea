import type { Clock } from '../clock.js';
import type { ChangeContext, ClaimedTask, ClaimRequest, SlotClass, TaskStore } from '../storage/ports.js';
import type { TaskRegistry } from './registry.js';

/** What the worker's lease statements need (a subset of its options). */
export interface LeaseOptions {
  store: TaskStore;
  clock: Clock;
  registry: TaskRegistry;
  workerId: string;
  leaseMs: number;
  batchAgingMs: number;
}

/**
 * One claim statement: `ranks` names the claim order (a class's own, or critical work only).
 * The claimed tasks are leased to this worker for `leaseMs`.
 *
 * @example
 * const claimed = await claimTasks(options, 'normal', 8, { actor: 'system', ids });
 */
export function claimTasks(
  options: LeaseOptions,
  ranks: SlotClass,
  limit: number,
  change: ChangeContext,
): Promise<ClaimedTask[]> {
  const now = options.clock.now();
  return options.store.claim(claimRequest(options, ranks, limit, now), now, change);
}

/**
 * A named claim: `taskId` alone, when a claim of `slotClass` could take it (see
 * ClaimRequest.taskId); leased to this worker for `leaseMs`.
 */
export function claimNamedTask(
  options: LeaseOptions,
  slotClass: SlotClass,
  taskId: string,
  change: ChangeContext,
): Promise<ClaimedTask[]> {
  const now = options.clock.now();
  return options.store.claim({ ...claimRequest(options, slotClass, 1, now), taskId }, now, change);
}

/** What this worker's claim of up to `limit` tasks in `ranks`' order asks for at `now`. */
export function claimRequest(options: LeaseOptions, ranks: SlotClass, limit: number, now: Date): ClaimRequest {
  const { registry, workerId, leaseMs, batchAgingMs } = options;
  return {
    workerId,
    slotClass: ranks,
    limit,
    types: registry.typeNames(),
    leaseExpiresAt: new Date(now.getTime() + leaseMs),
    agedBefore: new Date(now.getTime() - batchAgingMs),
  };
}

/**
 * One heartbeat statement: renews the leases of the tasks `ids` (running or claimed ahead) for
 * `leaseMs`. Answers the tasks no longer held, in `ids` order (their lease expired, and they
 * were or will be reaped: they now belong to whoever claims them next), and those with a
 * cancel request.
 *
 * @example
 * const { lost, cancelRequested } = await renewLeases(options, ['tsk_1', 'tsk_2']);
 */
export async function renewLeases(
  options: LeaseOptions,
  ids: readonly string[],
): Promise<{ lost: string[]; cancelRequested: string[] }> {
  const { store, clock, workerId, leaseMs } = options;
  const now = clock.now();
  const { held, cancelRequested } = await store.heartbeat(workerId, ids, new Date(now.getTime() + leaseMs), now);
  const heldSet = new Set(held);
  return { lost: ids.filter((id) => !heldSet.has(id)), cancelRequested };
}
