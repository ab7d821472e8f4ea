/**
 * The task-queue benchmark (issue 3): ProServer's engine against graphile-worker, pg-boss and
 * BullMQ, in one run, on the same PostgreSQL (and the local Redis for BullMQ). See the
 * "Tasks" section of bench/README.md for what each figure means and why it is measured so.
 *
 * `node bench/tasks/run.mjs` (after `npm run build`) or `npm run bench -- tasks`.
 */
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { liveChildren, runChild } from './lib/child-process.mjs';
import { dropSchemas, removeBullQueues, uniqueName } from './lib/names.mjs';
import { formatTasksReport } from './lib/report.mjs';
import { probeServices } from './lib/services.mjs';

const num = (name, fallback) => Number(process.env[name] ?? fallback);

function readSettings() {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const [redisHost, redisPort] = (process.env.BENCH_REDIS ?? '127.0.0.1:6379').split(':');
  return {
    databaseUrl,
    databaseLabel: new URL(databaseUrl).host,
    redis: { host: redisHost, port: Number(redisPort) },
    cpus: cpus().length,
    concurrency: num('BENCH_TASKS_CONCURRENCY', 24),
    drainCount: num('BENCH_TASKS_DRAIN', 20_000),
    drainTimeoutMs: num('BENCH_TASKS_DRAIN_TIMEOUT', 120) * 1000,
    idleSamples: num('BENCH_TASKS_SAMPLES', 200),
    idleBudgetMs: num('BENCH_TASKS_IDLE_BUDGET', 30) * 1000,
    batchCount: num('BENCH_TASKS_BATCH', 5_000),
    batchTaskMs: num('BENCH_TASKS_BATCH_MS', 1_000),
    criticalSamples: num('BENCH_TASKS_CRITICAL_SAMPLES', 100),
    criticalBudgetMs: num('BENCH_TASKS_CRITICAL_BUDGET', 45) * 1000,
    sampleTimeoutMs: num('BENCH_TASKS_SAMPLE_TIMEOUT', 30) * 1000,
    memoryQueued: num('BENCH_TASKS_QUEUED', 100_000),
    pgBoss: {
      workers: num('BENCH_PGBOSS_WORKERS', 10),
      batchSize: num('BENCH_PGBOSS_BATCH', 100),
      pollingIntervalSeconds: 0.5,
    },
  };
}

const PRO_PG = { id: 'proserver/postgres', system: 'proserver', backend: 'postgres', label: 'ProServer (PostgreSQL)' };
/** ProServer's store statements alone, no worker engine: see systems/proserver-sql-floor.mjs. */
const PRO_SQL_FLOOR = {
  id: 'proserver-sql-floor',
  system: 'proserver',
  backend: 'postgres',
  variant: 'sql-floor',
  label: 'ProServer SQL only (floor)',
};
const PRO_PGLITE = { id: 'proserver/pglite', system: 'proserver', backend: 'pglite', label: 'ProServer (PGlite)' };
const PRO_MEMORY = { id: 'proserver/memory', system: 'proserver', backend: 'memory', label: 'ProServer (memory)' };
const GRAPHILE = { id: 'graphile-worker', system: 'graphile-worker', label: 'graphile-worker 0.17' };
const PG_BOSS = { id: 'pg-boss', system: 'pg-boss', label: 'pg-boss 10' };
const BULLMQ = { id: 'bullmq', system: 'bullmq', label: 'BullMQ 5 (Redis)' };

/** Scenario by scenario, so the figures one compares were taken minutes apart, not more. */
function plan(settings) {
  const pgBossConfig = `${settings.pgBoss.workers} work() × batchSize ${settings.pgBoss.batchSize}, poll 0.5 s`;
  return [
    ...[PRO_PG, PRO_SQL_FLOOR, GRAPHILE, { ...PG_BOSS, note: pgBossConfig }, BULLMQ, PRO_PGLITE, PRO_MEMORY].map(
      (s) => ({ ...s, scenario: 'drain' }),
    ),
    ...[
      PRO_PG,
      GRAPHILE,
      { ...PG_BOSS, note: `polls every 0.5 s, submits at random phases (${pgBossConfig})` },
      BULLMQ,
      PRO_PGLITE,
      PRO_MEMORY,
    ].map((s) => ({ ...s, scenario: 'idle' })),
    { ...PRO_PG, scenario: 'critical', variant: 'reserved', how: 'critical slots free (reserved)' },
    {
      ...PRO_PG,
      scenario: 'critical',
      variant: 'preempt',
      how: 'critical slots busy too: preempts',
    },
    {
      ...GRAPHILE,
      scenario: 'critical',
      variant: 'batched',
      how: 'priority 0 vs 10, localQueue 500',
      note: 'no preemption; waits for its local queue to empty',
    },
    {
      ...GRAPHILE,
      scenario: 'critical',
      variant: 'unbatched',
      how: 'priority 0 vs 10, no localQueue',
      note: 'no preemption: waits for a free slot',
    },
    {
      ...PG_BOSS,
      scenario: 'critical',
      how: `priority 10 vs 0, ${settings.concurrency} work() × 1`,
      note: 'no preemption: waits for a free slot',
    },
    { ...BULLMQ, scenario: 'critical', how: 'priority 1 vs 10', note: 'no preemption: waits for a free slot' },
    { ...PRO_PG, scenario: 'memory' },
  ];
}

function selected(runs) {
  const pick = (name) => process.env[name]?.split(',').map((s) => s.trim());
  const systems = pick('BENCH_TASKS_SYSTEMS');
  const scenarios = pick('BENCH_TASKS_SCENARIOS');
  return runs.filter(
    (r) =>
      (!systems || systems.includes(r.id) || systems.includes(r.system)) &&
      (!scenarios || scenarios.includes(r.scenario)),
  );
}

function childTimeoutMs(settings, scenario) {
  switch (scenario) {
    case 'drain':
      return settings.drainTimeoutMs + 120_000;
    case 'idle':
      return 2 * settings.idleBudgetMs + 120_000;
    case 'critical':
      return settings.criticalBudgetMs + settings.sampleTimeoutMs + 120_000;
    default:
      return 600_000;
  }
}

/** Node flags of a scenario's child: GC for the memory readings, a CPU profile when BENCH_TASKS_PROFILE names a folder. */
function childExecArgv(run) {
  const profile = process.env.BENCH_TASKS_PROFILE;
  return [
    ...(run.scenario === 'memory' ? ['--expose-gc'] : []),
    ...(profile
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${profile}`,
          `--cpu-prof-name=${run.id.replace(/\W+/g, '-')}-${run.scenario}.cpuprofile`,
        ]
      : []),
  ];
}

async function runOne(run, settings, unavailable) {
  const needs = run.system === 'bullmq' ? 'redis' : run.backend && run.backend !== 'postgres' ? null : 'postgres';
  if (needs && unavailable[needs]) return { ...run, error: unavailable[needs] };
  const names = { schema: uniqueName('bench_tasks'), queue: uniqueName('bench_tasks') };
  process.stderr.write(`bench tasks: ${run.scenario} ${run.id}${run.variant ? ` (${run.variant})` : ''}…\n`);
  try {
    const result = await runChild(
      { system: run.system, scenario: run.scenario, backend: run.backend, variant: run.variant },
      { ...settings, names },
      { timeoutMs: childTimeoutMs(settings, run.scenario), execArgv: childExecArgv(run) },
    );
    return { ...run, result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...run, error: message.split('\n')[0] };
  } finally {
    // Normally the child removed them already; after a kill it could not.
    if (needs === 'postgres') await dropSchemas(settings.databaseUrl, [names.schema]).catch(() => {});
    if (needs === 'redis') await removeBullQueues(settings.redis, [names.queue]).catch(() => {});
  }
}

/** Runs the tasks bench and prints its report; answers the exit status (1 when a run failed). */
export async function runTasksBench() {
  const settings = readSettings();
  const runs = selected(plan(settings));
  const budgetMs = runs.reduce((sum, r) => sum + childTimeoutMs(settings, r.scenario), 60_000);
  const watchdog = setTimeout(() => {
    console.error('bench tasks: took too long, killing the children');
    for (const child of liveChildren) child.kill('SIGKILL');
    process.exit(1);
  }, budgetMs);
  watchdog.unref();
  const onSignal = () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const unavailable = await probeServices(settings);
    const results = [];
    for (const run of runs) results.push(await runOne(run, settings, unavailable));
    console.log(`\n${formatTasksReport(results, settings)}`);
    const failed = results.filter((r) => r.error);
    if (failed.length > 0) console.log(`\n${failed.length} run(s) failed: their rows read "not run".`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runTasksBench();
}
