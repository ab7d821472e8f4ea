/**
 * pg-boss 10 in its fast configuration. v10 dropped `teamSize`: concurrency comes from calling
 * `work()` several times, each worker fetching `batchSize` jobs per poll and running them at
 * once (Promise.all), then completing them in one statement. A worker polls every
 * `pollingIntervalSeconds` (0.5 s, the minimum v10 accepts) even after a full batch, so its
 * ceiling is workers × batchSize / 0.5 s. pg-boss has no cross-process wake-up (no
 * LISTEN/NOTIFY): a new job waits for the next poll. Jobs are queued with `insert` (one bulk
 * statement). Priority: a larger number is fetched first.
 */
import PgBoss from 'pg-boss';
import { timeDrain } from '../lib/drain.mjs';
import { createStartSignals, samplePickups } from '../lib/pickup.mjs';
import { batchTaskDuration, chunks, createCounter, settleBatchLoad, sleep, waitUntil } from '../lib/time.mjs';

const INSERT_CHUNK = 10_000;

async function open(settings) {
  const boss = new PgBoss({
    connectionString: settings.databaseUrl,
    schema: settings.names.schema,
    max: Math.max(settings.pgBoss.workers, settings.concurrency) + 2,
    schedule: false,
  });
  boss.on('error', (error) => console.error(`[bench pg-boss] ${error.message}`));
  await boss.start();
  const queue = settings.names.queue;
  await boss.createQueue(queue, { name: queue, retryLimit: 0 });
  return {
    boss,
    queue,
    /** Starts `workers` workers of `batchSize`, each running its batch with `handler(job)`. */
    async work(handler, { workers, batchSize }) {
      const options = { batchSize, pollingIntervalSeconds: settings.pgBoss.pollingIntervalSeconds };
      for (let i = 0; i < workers; i++) {
        await boss.work(queue, options, (jobs) => Promise.all(jobs.map(handler)));
      }
    },
    async close() {
      try {
        await boss.stop({ graceful: false, timeout: 5_000, wait: true });
      } finally {
        // pg-boss closed its pool; the schema goes in a fresh connection.
        const { dropSchemas } = await import('../lib/names.mjs');
        await dropSchemas(settings.databaseUrl, [settings.names.schema]);
      }
    },
  };
}

async function insert(system, jobs) {
  for (const chunk of chunks(jobs, INSERT_CHUNK)) await system.boss.insert(chunk);
}

async function drain(settings) {
  const system = await open(settings);
  const count = settings.drainCount;
  const handled = createCounter(count);
  try {
    return await timeDrain({
      count,
      submitAll: () =>
        insert(
          system,
          Array.from({ length: count }, (_, n) => ({ name: system.queue, data: { n } })),
        ),
      startWorkers: () => system.work(async () => handled.increment(), settings.pgBoss),
      // pg-boss completes a batch after its handler returns without awaiting the write: wait
      // until no job of the queue is left before `completed`.
      allCompleted: async () => {
        await handled.done;
        await waitUntil(async () => (await system.boss.getQueueSize(system.queue, { before: 'completed' })) === 0, {
          intervalMs: 10,
          timeoutMs: settings.drainTimeoutMs,
          what: 'pg-boss completions',
        });
      },
      timeoutMs: settings.drainTimeoutMs,
    });
  } finally {
    await system.close();
  }
}

async function idle(settings) {
  const system = await open(settings);
  const signals = createStartSignals();
  try {
    await system.work(async (job) => signals.started(job.data.key), settings.pgBoss);
    await sleep(200);
    return {
      inProcess: await samplePickups({
        submit: (key) => system.boss.send(system.queue, { key }),
        signals,
        maxPauseMs: settings.pgBoss.pollingIntervalSeconds * 1000,
        samples: settings.idleSamples,
        budgetMs: settings.idleBudgetMs,
        sampleTimeoutMs: settings.sampleTimeoutMs,
      }),
    };
  } finally {
    await system.close();
  }
}

/**
 * Every "slot" busy: `concurrency` workers of batchSize 1, so exactly `concurrency` batch jobs
 * run at once, as for the other systems (a batchSize of 100 would hold 100 jobs per worker).
 */
async function critical(settings) {
  const system = await open(settings);
  const signals = createStartSignals();
  let running = 0;
  try {
    await insert(
      system,
      Array.from({ length: settings.batchCount }, (_, n) => ({ name: system.queue, data: { n }, priority: 0 })),
    );
    await system.work(
      async (job) => {
        if (job.data.key !== undefined) return signals.started(job.data.key);
        running++;
        await sleep(batchTaskDuration(settings.batchTaskMs));
        running--;
      },
      { workers: settings.concurrency, batchSize: 1 },
    );
    await waitUntil(() => running >= settings.concurrency, { timeoutMs: 30_000, what: 'batch jobs filling the slots' });
    await settleBatchLoad(settings.batchTaskMs);
    return await samplePickups({
      submit: (key) => system.boss.send(system.queue, { key }, { priority: 10 }),
      signals,
      samples: settings.criticalSamples,
      warmup: 0,
      budgetMs: settings.criticalBudgetMs,
      sampleTimeoutMs: settings.sampleTimeoutMs,
    });
  } finally {
    await system.close();
  }
}

export const scenarios = { drain, idle, critical };
