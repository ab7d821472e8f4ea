/** Drain throughput: everything is queued first, then the workers start and the clock runs. */
import { withTimeout } from './time.mjs';

/**
 * `submitAll()` queues the tasks (timed on its own: bulk submit rate), then the clock starts,
 * `startWorkers()` starts the system's workers and `allCompleted()` resolves once every task
 * is recorded as completed by the system itself. Answers tasks/s over that second part.
 */
export async function timeDrain({ count, submitAll, startWorkers, allCompleted, timeoutMs }) {
  const submitStart = performance.now();
  await submitAll();
  const drainStart = performance.now();
  await startWorkers();
  await withTimeout(allCompleted(), timeoutMs, `draining ${count} tasks`);
  const drainEnd = performance.now();
  return {
    count,
    submitPerSecond: count / ((drainStart - submitStart) / 1000),
    drainSeconds: (drainEnd - drainStart) / 1000,
    tasksPerSecond: count / ((drainEnd - drainStart) / 1000),
  };
}
