/** Drain throughput: everything is queued first, then the workers start and the clock runs. */
import { msPer, startCpuMeasure } from '../../lib/cpu.mjs';
import { withTimeout } from './time.mjs';

/**
 * `submitAll()` queues the tasks (timed on its own: bulk submit rate), then the clock starts,
 * `startWorkers()` starts the system's workers and `allCompleted()` resolves once every task
 * is recorded as completed by the system itself. Answers tasks/s over that second part, and
 * the CPU time per 1,000 tasks over it: the machine's (null where it cannot be read) and this
 * process's (the system's client side: its workers, or for BullMQ and pg-boss their Node part).
 */
export async function timeDrain({ count, submitAll, startWorkers, allCompleted, timeoutMs }) {
  const submitStart = performance.now();
  await submitAll();
  const drainStart = performance.now();
  const cpu = startCpuMeasure();
  await startWorkers();
  await withTimeout(allCompleted(), timeoutMs, `draining ${count} tasks`);
  const drainEnd = performance.now();
  const { machine, own } = msPer(cpu.stop(), count / 1000);
  return {
    count,
    submitPerSecond: count / ((drainStart - submitStart) / 1000),
    drainSeconds: (drainEnd - drainStart) / 1000,
    tasksPerSecond: count / ((drainEnd - drainStart) / 1000),
    cpuMsPerThousand: machine,
    ownCpuMsPerThousand: own,
  };
}
