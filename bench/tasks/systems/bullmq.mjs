/**
 * BullMQ 5 on the local Redis (the non-PostgreSQL choice): one Worker with `concurrency` = the
 * bench concurrency, jobs queued with `addBulk`, completed jobs removed (`removeOnComplete`),
 * as BullMQ recommends for throughput. A Worker blocks on Redis for the next job, so an idle
 * one starts a new job without polling. Priority: 1 is the highest; jobs in the prioritized set
 * are taken by rank.
 */
import { Queue, Worker } from 'bullmq';
import { timeDrain } from '../lib/drain.mjs';
import { createStartSignals, samplePickups } from '../lib/pickup.mjs';
import { batchTaskDuration, chunks, createCounter, settleBatchLoad, sleep, waitUntil } from '../lib/time.mjs';

const ADD_CHUNK = 1_000;
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true };

function open(settings) {
  const connection = { ...settings.redis, maxRetriesPerRequest: null };
  const queue = new Queue(settings.names.queue, { connection, defaultJobOptions: JOB_OPTIONS });
  let worker;
  return {
    queue,
    start(processor, { autorun = true } = {}) {
      worker = new Worker(settings.names.queue, processor, {
        connection,
        concurrency: settings.concurrency,
        autorun,
      });
      worker.on('error', (error) => console.error(`[bench bullmq] ${error.message}`));
      return worker;
    },
    async close() {
      try {
        if (worker) await worker.close(true);
      } finally {
        await queue.obliterate({ force: true }).catch(() => {});
        await queue.close();
      }
    },
  };
}

async function addBulk(queue, jobs) {
  for (const chunk of chunks(jobs, ADD_CHUNK)) await queue.addBulk(chunk);
}

async function drain(settings) {
  const system = open(settings);
  const count = settings.drainCount;
  const completed = createCounter(count);
  try {
    // Connected and ready before the clock starts; `run()` below only starts fetching.
    const worker = system.start(async () => null, { autorun: false });
    worker.on('completed', () => completed.increment());
    await worker.waitUntilReady();
    return await timeDrain({
      count,
      submitAll: () =>
        addBulk(
          system.queue,
          Array.from({ length: count }, (_, n) => ({ name: 'noop', data: { n } })),
        ),
      startWorkers: () => {
        worker.run().catch((error) => console.error(`[bench bullmq] ${error.message}`));
      },
      // 'completed' is emitted once the job was moved to completed (removed) in Redis.
      allCompleted: () => completed.done,
      timeoutMs: settings.drainTimeoutMs,
    });
  } finally {
    await system.close();
  }
}

async function idle(settings) {
  const system = open(settings);
  const signals = createStartSignals();
  try {
    const worker = system.start(async (job) => signals.started(job.data.key));
    await worker.waitUntilReady();
    await sleep(200);
    return {
      inProcess: await samplePickups({
        submit: (key) => system.queue.add('pickup', { key }),
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

async function critical(settings) {
  const system = open(settings);
  const signals = createStartSignals();
  let running = 0;
  try {
    await addBulk(
      system.queue,
      Array.from({ length: settings.batchCount }, (_, n) => ({ name: 'batch', data: { n }, opts: { priority: 10 } })),
    );
    const worker = system.start(async (job) => {
      if (job.data.key !== undefined) return signals.started(job.data.key);
      running++;
      await sleep(batchTaskDuration(settings.batchTaskMs));
      running--;
    });
    await worker.waitUntilReady();
    await waitUntil(() => running >= settings.concurrency, { timeoutMs: 30_000, what: 'batch jobs filling the slots' });
    await settleBatchLoad(settings.batchTaskMs);
    return await samplePickups({
      submit: (key) => system.queue.add('critical', { key }, { priority: 1 }),
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
