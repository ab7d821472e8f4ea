/**
 * ProServer's memory with a large backlog on PostgreSQL. The worker process (this one) is
 * measured: RSS before 100,000 tasks are queued, after, and after a few claim rounds. The
 * backlog is submitted by another ProServer process (an API node: `backlog` below, forked), so
 * the worker's figures show what a queue costs it, not the garbage of building 100,000 tasks;
 * the API node's own RSS is reported too. The backlog's type has no handler here, so every
 * claim skips it: the queue must live in the database, not in the worker's memory.
 *
 * Readings are taken after a full garbage collection and a second's pause (both processes run
 * with --expose-gc).
 */
import { runChild } from '../lib/child-process.mjs';
import { sleep, withTimeout } from '../lib/time.mjs';

const CLAIM_ROUNDS = 5;
const TASKS_PER_ROUND = 1_000;

/** After a full GC and a second to let V8 and malloc hand freed pages back (RSS lags the heap). */
async function reading(label) {
  globalThis.gc?.();
  await sleep(1_000);
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { label, rssMb: rss / 2 ** 20, heapUsedMb: heapUsed / 2 ** 20 };
}

/** The API node: submits the backlog in `submitMany` calls of 10,000 and reports its RSS. */
export async function backlogScenario(settings, { openStorage, startCore, submitInChunks, noWorkers }) {
  const storage = await openStorage();
  const noop = { run: () => null };
  const api = startCore(storage, noWorkers, { 'bench.parked': noop });
  try {
    const before = await reading('API node before submitting');
    const parked = Array.from({ length: settings.memoryQueued }, (_, n) => ({ type: 'bench.parked', payload: { n } }));
    const started = performance.now();
    await submitInChunks(api, parked);
    const seconds = (performance.now() - started) / 1000;
    parked.length = 0;
    const after = await reading(`API node after submitting ${settings.memoryQueued}`);
    return { submitPerSecond: settings.memoryQueued / seconds, readings: [before, after] };
  } finally {
    await api.close();
  }
}

export async function memoryScenario(settings, tools) {
  const { openStorage, startCore, submitInChunks, countCompletions, workers } = tools;
  if (!globalThis.gc) throw new Error('the memory scenario needs node --expose-gc');
  const storage = await openStorage();
  const noop = { run: () => null };
  const worker = startCore(storage, workers, { 'bench.noop': noop });
  try {
    /** One round of claim cycles: TASKS_PER_ROUND no-ops submitted here and drained; answers tasks/s. */
    const round = async () => {
      const completions = countCompletions(worker, 'bench.noop', TASKS_PER_ROUND);
      const started = performance.now();
      await submitInChunks(
        worker,
        Array.from({ length: TASKS_PER_ROUND }, (_, n) => ({ type: 'bench.noop', payload: { n } })),
      );
      await withTimeout(completions.done(), 120_000, 'a claim round');
      return TASKS_PER_ROUND / ((performance.now() - started) / 1000);
    };

    // Every reading follows a claim round, so each is taken in the same state (RSS lags the
    // heap: a reading after a long idle would look smaller for that reason alone).
    await round(); // connections, prepared statements and JIT in place
    const emptyRate = await round();
    const readings = [await reading('worker before: empty queue, after a claim round')];

    const apiNode = await runChild({ system: 'proserver', scenario: 'backlog', backend: 'postgres' }, settings, {
      timeoutMs: 300_000,
      execArgv: ['--expose-gc'],
    });
    const depths = await worker.tasks.queueDepths();
    const loadedRates = [await round()];
    readings.push(await reading(`worker with ${depths.normal} queued, after a claim round`));
    for (let i = 1; i < CLAIM_ROUNDS; i++) loadedRates.push(await round());
    readings.push(await reading(`worker after ${CLAIM_ROUNDS} claim rounds in all`));

    const base = readings[0].rssMb;
    const apiBase = apiNode.readings[0].rssMb;
    return {
      queued: depths.normal,
      submitPerSecond: apiNode.submitPerSecond,
      readings: readings.map((r) => ({ ...r, rssChange: r.rssMb / base - 1 })),
      apiReadings: apiNode.readings.map((r) => ({ ...r, rssChange: r.rssMb / apiBase - 1 })),
      claimRate: { empty: emptyRate, withBacklog: Math.min(...loadedRates) },
    };
  } finally {
    await worker.close();
  }
}
