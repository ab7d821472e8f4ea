import type { TaskRecord } from '../storage/ports.js';
import type { AttemptAbort } from './attempt-abort.js';

/** A task running in this process, as preemption sees it. */
export interface PreemptionCandidate {
  record: Pick<TaskRecord, 'id' | 'priority'>;
  abort: AttemptAbort;
  /** Start order in this process: preemption picks the most recently started batch task. */
  order: number;
}

/**
 * Chooses the batch tasks to preempt for critical work that is due while no slot is free:
 * the most recently started batch tasks not aborted yet, one per due critical task beyond
 * those already being preempted. `countDueCritical(limit)` counts the due critical tasks (up
 * to `limit`); it is not asked when there is no candidate.
 *
 * @example
 * const chosen = await choosePreempted([...running.values()], (limit) => store.countDueCritical(now, types, limit));
 * for (const task of chosen) task.abort.abort('preempted');
 */
export async function choosePreempted<T extends PreemptionCandidate>(
  running: readonly T[],
  countDueCritical: (limit: number) => Promise<number>,
): Promise<T[]> {
  const preempting = running.filter((t) => t.abort.reason === 'preempted').length;
  const candidates = running
    .filter((t) => t.record.priority === 'batch' && !t.abort.aborted)
    .sort((a, b) => b.order - a.order);
  if (candidates.length === 0) return [];
  const waiting = await countDueCritical(candidates.length + preempting);
  return candidates.slice(0, Math.max(0, waiting - preempting));
}
