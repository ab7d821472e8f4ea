/**
 * graphile-worker 0.17 in its documented fast configuration (worker.graphile.org/docs/performance):
 * `concurrentJobs` = the bench concurrency (24 by default, as in that page), a pool of
 * concurrency + 1, `localQueue.size` 500, `completeJobBatchDelay` and `failJobBatchDelay` 0.
 * Jobs are queued with `addJobs` (one bulk statement) through WorkerUtils on their own pool;
 * the runner and the submitter share this process. Priority: numerically smaller runs first.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import postgres from 'postgres';
import { timeDrain } from '../lib/drain.mjs';
import { createStartSignals, samplePickups } from '../lib/pickup.mjs';
import { batchTaskDuration, chunks, createCounter, settleBatchLoad, sleep, waitUntil } from '../lib/time.mjs';

const silentLogger = new Logger(() => () => {});
const ADD_CHUNK = 10_000;

function options(settings, { batched = true } = {}) {
  return {
    connectionString: settings.databaseUrl,
    schema: settings.names.schema,
    concurrency: settings.concurrency,
    maxPoolSize: settings.concurrency + 1,
    noHandleSignals: true,
    logger: silentLogger,
    preset: {
      worker: batched
        ? { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
        : { completeJobBatchDelay: -1, failJobBatchDelay: -1 },
    },
  };
}

/** Migrated schema + WorkerUtils (its own pool) for submitting; `close` also drops the schema. */
async function open(settings) {
  const utils = await makeWorkerUtils({
    connectionString: settings.databaseUrl,
    schema: settings.names.schema,
    logger: silentLogger,
  });
  await utils.migrate();
  const sql = postgres(settings.databaseUrl, { max: 1, onnotice: () => {} });
  let runner;
  return {
    utils,
    sql,
    async start(taskList, runOptions) {
      runner = await run({ ...options(settings, runOptions), taskList });
      return runner;
    },
    async close() {
      try {
        if (runner) await runner.stop();
      } finally {
        await utils.release();
        await sql.unsafe(`DROP SCHEMA IF EXISTS "${settings.names.schema}" CASCADE`).catch(() => {});
        await sql.end({ timeout: 5 });
      }
    },
  };
}

async function addJobs(utils, specs) {
  for (const chunk of chunks(specs, ADD_CHUNK)) await utils.addJobs(chunk);
}

async function drain(settings) {
  const system = await open(settings);
  const count = settings.drainCount;
  const handled = createCounter(count);
  try {
    return await timeDrain({
      count,
      submitAll: () =>
        addJobs(
          system.utils,
          Array.from({ length: count }, (_, n) => ({ identifier: 'bench_noop', payload: { n } })),
        ),
      startWorkers: () => system.start({ bench_noop: async () => handled.increment() }),
      // A completed job is deleted; completions are batched, so wait for the rows to go.
      allCompleted: async () => {
        await handled.done;
        const remaining = `SELECT count(*)::int AS n FROM "${settings.names.schema}"._private_jobs`;
        await waitUntil(async () => (await system.sql.unsafe(remaining))[0].n === 0, {
          intervalMs: 10,
          timeoutMs: settings.drainTimeoutMs,
          what: 'graphile completions',
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
    await system.start({ bench_pickup: async (payload) => signals.started(payload.key) });
    await sleep(200);
    return {
      inProcess: await samplePickups({
        submit: (key) => system.utils.addJob('bench_pickup', { key }),
        signals,
        samples: settings.idleSamples,
        budgetMs: settings.idleBudgetMs,
        sampleTimeoutMs: settings.sampleTimeoutMs,
      }),
    };
  } finally {
    await system.close();
  }
}

async function critical(settings, { variant }) {
  const system = await open(settings);
  const signals = createStartSignals();
  let running = 0;
  try {
    await addJobs(
      system.utils,
      Array.from({ length: settings.batchCount }, (_, n) => ({
        identifier: 'bench_batch',
        payload: { n },
        priority: 10,
      })),
    );
    await system.start(
      {
        bench_batch: async () => {
          running++;
          await sleep(batchTaskDuration(settings.batchTaskMs));
          running--;
        },
        bench_critical: async (payload) => signals.started(payload.key),
      },
      { batched: variant !== 'unbatched' },
    );
    await waitUntil(() => running >= settings.concurrency, { timeoutMs: 30_000, what: 'batch jobs filling the slots' });
    await settleBatchLoad(settings.batchTaskMs);
    return await samplePickups({
      submit: (key) => system.utils.addJob('bench_critical', { key }, { priority: 0 }),
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
