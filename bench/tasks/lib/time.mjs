/** Small timing helpers: every wait in the tasks bench is bounded. */

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with `what` timed out after `ms`; the timer never keeps the process alive. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms)} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` every `intervalMs` until it answers true; throws after `timeoutMs`. */
export async function waitUntil(check, { intervalMs = 20, timeoutMs, what }) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what} timed out after ${Math.round(timeoutMs)} ms`);
    await sleep(intervalMs);
  }
}

/**
 * Counts events up to `target`; `done` resolves when the target is reached. Used for "all
 * tasks completed" where a system reports completions itself.
 */
export function createCounter(target) {
  let count = 0;
  let resolveDone;
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });
  if (target <= 0) resolveDone();
  return {
    done,
    get count() {
      return count;
    },
    increment(by = 1) {
      count += by;
      if (count >= target) resolveDone();
    },
  };
}

/** Splits `items` into arrays of at most `size`. */
export function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * How long one batch task of the critical scenario runs: uniform over 0.5–1.5 × `meanMs`.
 * Equal durations would make every slot free up in the same instant once per period (all
 * batch tasks start together), and a system without preemption would then show the period,
 * not how soon it hands a freed slot to critical work.
 */
export function batchTaskDuration(meanMs) {
  return meanMs * (0.5 + Math.random());
}

/** Before sampling critical pickups: the batch tasks' end times spread out (two mean durations). */
export const settleBatchLoad = (meanMs) => sleep(2 * meanMs);
