/**
 * ProServer's task engine (`core.tasks`, from the BUILT @proserver/core) on PostgreSQL,
 * PGlite or memory. The submitter and the worker run in this one process; on PostgreSQL the
 * idle pickup is also measured with the submitter on its own connection pool, so the wake-up
 * travels through LISTEN/NOTIFY as it does between nodes.
 */
import { createCore, SYSTEM_PRINCIPAL } from '@proserver/core';
import { z } from 'zod';
import { timeDrain } from '../lib/drain.mjs';
import { createStartSignals, samplePickups } from '../lib/pickup.mjs';
import { batchTaskDuration, chunks, createCounter, settleBatchLoad, sleep, waitUntil } from '../lib/time.mjs';

/** Errors the engines of this process reported (`task claim failed`, …): shown in the report. */
export const engineErrors = { count: 0, first: undefined };

const NO_WORKERS = { critical: 0, normal: 0, batch: 0 };
/** The largest `submitMany` call the engine accepts. */
const SUBMIT_CHUNK = 10_000;
const payloadSchema = z.object({ n: z.number().int().optional(), key: z.string().optional() });

/** Slots of a worker process in this bench: `concurrency` normal slots, 4 critical, 4 batch. */
export function fastWorkers(settings) {
  return { critical: 4, normal: settings.concurrency, batch: 4 };
}

async function openStorage(backend, settings) {
  switch (backend) {
    case 'memory': {
      const { createMemoryStorage } = await import('@proserver/core/memory');
      return createMemoryStorage();
    }
    case 'pglite': {
      const { createPgliteStorage } = await import('@proserver/core/pglite');
      return createPgliteStorage();
    }
    case 'postgres': {
      const { createPostgresStorage } = await import('@proserver/core/postgres');
      return createPostgresStorage({ url: settings.databaseUrl, schema: settings.names.schema });
    }
    default:
      throw new Error(`unknown backend ${backend}`);
  }
}

/**
 * A core on `storage` with the given worker slots and task types. Several cores may share one
 * storage object (an API-only submitter next to a worker); only the last one closed may close
 * the storage, so the others are stopped with `tasks.stop()`.
 */
function startCore(storage, workers, types) {
  const core = createCore({ storage, kv: { sweepIntervalMs: 0 }, tasks: { workers } });
  // The engine carries on after a failed claim or write; the bench reports them.
  core.tasks.on('error', ({ where, error }) => {
    engineErrors.count++;
    engineErrors.first ??= `${where}: ${error instanceof Error ? error.message : String(error)}`;
  });
  for (const [type, definition] of Object.entries(types)) {
    core.tasks.define({ type, payload: payloadSchema, ...definition });
  }
  // The worker may have run its first claim before these types were defined.
  core.tasks.wake();
  return core;
}

const submit = (core, inputs) => core.tasks.submitMany(SYSTEM_PRINCIPAL, inputs);

async function submitInChunks(core, inputs) {
  for (const chunk of chunks(inputs, SUBMIT_CHUNK)) await submit(core, chunk);
}

/** Resolves once `target` tasks of `type` completed here; rejects at the first failure. */
function countCompletions(core, type, target) {
  const counter = createCounter(target);
  const failure = new Promise((_, reject) => {
    core.tasks.on('task.failed', (event) => {
      if (event.type === type) reject(new Error(`a ${type} task failed: ${JSON.stringify(event.error)}`));
    });
  });
  failure.catch(() => {});
  core.tasks.on('task.completed', (event) => event.type === type && counter.increment());
  return { counter, done: () => Promise.race([counter.done, failure]) };
}

/** Waits until `count` handlers run at once (every slot the batch tasks can take is busy). */
function untilRunning(core, count, what) {
  return waitUntil(() => core.tasks.runningIds().length >= count, { intervalMs: 5, timeoutMs: 30_000, what });
}

/** A handler that runs `ms()` or until its signal aborts (preemption, shutdown), whichever is first. */
function runFor(ms) {
  return ({ signal }) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, ms());
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

async function drain(settings, backend) {
  const storage = await openStorage(backend, settings);
  const count = settings.drainCount;
  const noop = { run: () => null };
  const submitter = startCore(storage, NO_WORKERS, { 'bench.noop': noop });
  let worker;
  try {
    let completions;
    const inputs = Array.from({ length: count }, (_, n) => ({ type: 'bench.noop', payload: { n } }));
    return await timeDrain({
      count,
      submitAll: () => submitInChunks(submitter, inputs),
      startWorkers: () => {
        worker = startCore(storage, fastWorkers(settings), { 'bench.noop': noop });
        completions = countCompletions(worker, 'bench.noop', count);
      },
      allCompleted: () => completions.done(),
      timeoutMs: settings.drainTimeoutMs,
    });
  } finally {
    await submitter.tasks.stop();
    if (worker) await worker.close();
    else await storage.close();
  }
}

async function idle(settings, backend) {
  const results = {};
  const signals = createStartSignals();
  const types = { 'bench.pickup': { run: ({ payload }) => signals.started(payload.key) } };
  const storage = await openStorage(backend, settings);
  const core = startCore(storage, fastWorkers(settings), types);
  try {
    await sleep(200); // the worker's LISTEN is in place
    results.inProcess = await samplePickups({
      submit: (key) => submit(core, [{ type: 'bench.pickup', payload: { key } }]),
      signals,
      samples: settings.idleSamples,
      budgetMs: settings.idleBudgetMs,
      sampleTimeoutMs: settings.sampleTimeoutMs,
    });
    if (backend === 'postgres') {
      // A second storage = a second connection pool: the submit reaches the worker only
      // through PostgreSQL's NOTIFY, as from another node.
      const remoteStorage = await openStorage(backend, settings);
      const remote = startCore(remoteStorage, NO_WORKERS, types);
      try {
        results.viaNotify = await samplePickups({
          submit: (key) => submit(remote, [{ type: 'bench.pickup', payload: { key } }]),
          signals,
          samples: settings.idleSamples,
          budgetMs: settings.idleBudgetMs,
          sampleTimeoutMs: settings.sampleTimeoutMs,
        });
      } finally {
        await remote.close();
      }
    }
    return results;
  } finally {
    await core.close();
  }
}

/**
 * `variant: 'reserved'`: batch tasks fill every normal and batch slot; the critical slots are
 * free, as configured (critical work has capacity batch work cannot take).
 * `variant: 'preempt'`: the critical slots are busy too (long critical tasks), so each
 * critical sample has no free slot and must preempt a batch task.
 */
async function critical(settings, backend, variant) {
  const signals = createStartSignals();
  const workers = fastWorkers(settings);
  const storage = await openStorage(backend, settings);
  const core = startCore(storage, workers, {
    'bench.batch': { priority: 'batch', run: runFor(() => batchTaskDuration(settings.batchTaskMs)) },
    'bench.blocker': { priority: 'critical', run: runFor(() => settings.criticalBudgetMs + 60_000) },
    'bench.critical': { priority: 'critical', run: ({ payload }) => signals.started(payload.key) },
  });
  let preempted = 0;
  core.tasks.on('task.released', (event) => event.reason === 'preempted' && preempted++);
  try {
    let busy = workers.normal + workers.batch;
    if (variant === 'preempt') {
      // Normal and batch slots take critical work first: blockers submitted while a claim round
      // is under way could land there and leave a critical slot free. The worker is idle
      // after its start-up round, so the critical slots claim all of them.
      await sleep(300);
      await submit(
        core,
        Array.from({ length: workers.critical }, () => ({ type: 'bench.blocker', payload: {} })),
      );
      await untilRunning(core, workers.critical, 'critical blockers starting');
      busy += workers.critical;
    }
    await submitInChunks(
      core,
      Array.from({ length: settings.batchCount }, (_, n) => ({ type: 'bench.batch', payload: { n } })),
    );
    await untilRunning(core, busy, 'batch tasks filling the slots');
    await settleBatchLoad(settings.batchTaskMs);
    const pickups = await samplePickups({
      submit: (key) => submit(core, [{ type: 'bench.critical', payload: { key } }]),
      signals,
      samples: settings.criticalSamples,
      warmup: 0,
      budgetMs: settings.criticalBudgetMs,
      sampleTimeoutMs: settings.sampleTimeoutMs,
    });
    const depths = await core.tasks.queueDepths();
    return { ...pickups, batchQueuedAtEnd: depths.batch, preempted };
  } finally {
    await core.close();
  }
}

export const scenarios = {
  drain: async (settings, { backend, variant }) => {
    if (variant !== 'sql-floor') return drain(settings, backend);
    const { sqlFloorDrain } = await import('./proserver-sql-floor.mjs');
    return sqlFloorDrain(settings, coreTools(settings, backend));
  },
  idle: (settings, { backend }) => idle(settings, backend),
  critical: (settings, { backend, variant }) => critical(settings, backend, variant),
  memory: async (settings, { backend }) => {
    const { memoryScenario } = await import('./proserver-memory.mjs');
    return memoryScenario(settings, coreTools(settings, backend));
  },
  backlog: async (settings, { backend }) => {
    const { backlogScenario } = await import('./proserver-memory.mjs');
    return backlogScenario(settings, coreTools(settings, backend));
  },
};

/** What the scenarios in sibling modules need of this one: storage, cores, bulk submits, worker slots. */
function coreTools(settings, backend) {
  return {
    openStorage: () => openStorage(backend, settings),
    startCore,
    submitInChunks,
    countCompletions,
    workers: fastWorkers(settings),
    noWorkers: NO_WORKERS,
  };
}
