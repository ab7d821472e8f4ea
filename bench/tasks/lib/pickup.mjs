/**
 * Pickup latency: submit → handler start, one task at a time, measured with performance.now()
 * in one process (the submitter and the worker run in the same child, so both ends read the
 * same monotonic clock).
 */
import { summarize } from './stats.mjs';
import { sleep } from './time.mjs';

/**
 * Handlers call `started(key)` first thing; the sampler `expect`s a key before submitting it.
 * A start nobody waits for (a warm-up straggler, a re-run after preemption) is ignored.
 */
export function createStartSignals() {
  const waiting = new Map();
  return {
    started(key) {
      const at = performance.now();
      const waiter = waiting.get(key);
      if (waiter) {
        waiting.delete(key);
        waiter(at);
      }
    },
    /** Resolves with the start time of `key`, or with null after `timeoutMs`. */
    expect(key, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(key);
          resolve(null);
        }, timeoutMs);
        timer.unref?.();
        waiting.set(key, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
    },
  };
}

/**
 * Submits `warmup + samples` tasks one after the other through `submit(key)` and records how
 * long each took to start. Between two samples it pauses a random 10 ms to `maxPauseMs`
 * (default 50), so the worker is idle again (its previous no-op finished and was written);
 * a polling system passes its poll interval, so that submits land at every phase of the poll
 * like independent arrivals would, not always just after a poll.
 *
 * Bounded: it stops after `budgetMs` even if fewer samples were taken. A sample that does not
 * start within `sampleTimeoutMs` is recorded as Infinity and ends the sampling (the next one
 * would queue behind it and measure nothing new); one cut short only by the end of the
 * budget is dropped.
 */
export async function samplePickups({
  submit,
  signals,
  samples,
  warmup = 5,
  budgetMs,
  sampleTimeoutMs,
  maxPauseMs = 50,
}) {
  const latencies = [];
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < warmup + samples; i++) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) break;
    const key = `sample-${i}`;
    const cutByBudget = remaining < sampleTimeoutMs;
    const started = signals.expect(key, Math.min(sampleTimeoutMs, remaining));
    const submittedAt = performance.now();
    await submit(key);
    const startedAt = await started;
    if (startedAt === null) {
      // A warm-up sample that never starts is kept: it is what the system gives.
      if (!cutByBudget) latencies.push(Number.POSITIVE_INFINITY);
      break;
    }
    if (i >= warmup) latencies.push(startedAt - submittedAt);
    await sleep(10 + Math.random() * (maxPauseMs - 10));
  }
  return { ...summarize(latencies), requested: samples, limitMs: sampleTimeoutMs };
}
