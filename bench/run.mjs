/**
 * `npm run bench`: every benchmark, one after the other (bench/README.md says what each
 * figure means). `npm run bench -- http` (or `tasks`, `events`, `docs`; or BENCH_ONLY=…) runs one.
 *
 * http: throughput and latency of authenticated key-value reads and writes through
 * the whole HTTP stack, on memory, PGlite and PostgreSQL, next to a bare Hono route served by
 * the same Node server.
 * tasks: the task engine against graphile-worker, pg-boss and BullMQ (bench/tasks/run.mjs).
 * events: WebSocket fan-out across two nodes on PostgreSQL (bench/events/run.mjs).
 * docs: the document store with 100,000 documents on PostgreSQL (bench/docs/run.mjs).
 *
 * Environment of http: BENCH_BACKENDS (default memory,pglite,postgres), BENCH_DURATION (s per case,
 * default 5), BENCH_WARMUP (s, default 1), BENCH_CONNECTIONS (default 10), DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/test).
 */
import { runDocsBench } from './docs/run.mjs';
import { runEventsBench } from './events/run.mjs';
import { measure } from './lib/load.mjs';
import { formatReport } from './lib/report.mjs';
import { liveChildren, PROXY_VARIABLES, startServerProcess } from './lib/server-process.mjs';
import { runTasksBench } from './tasks/run.mjs';

const BENCHES = ['http', 'tasks', 'docs', 'events'];
const only = process.argv[2] ?? process.env.BENCH_ONLY;
if (only !== undefined && !BENCHES.includes(only)) {
  console.error(`bench: unknown benchmark "${only}" (one of: ${BENCHES.join(', ')})`);
  process.exit(2);
}

const settings = {
  backends: (process.env.BENCH_BACKENDS ?? 'memory,pglite,postgres').split(',').map((name) => name.trim()),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 5),
  warmupSeconds: Number(process.env.BENCH_WARMUP ?? 1),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 10),
};
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// autocannon runs in this process: no proxy may sit between it and 127.0.0.1.
for (const name of PROXY_VARIABLES) delete process.env[name];

function killChildren() {
  for (const child of liveChildren) child.kill('SIGKILL');
}

async function benchBackend(backend) {
  const { ready, stop } = await startServerProcess(backend, {
    DATABASE_URL: databaseUrl,
    BENCH_PUT_KEYS: process.env.BENCH_PUT_KEYS ?? String(settings.connections),
  });
  try {
    const auth = { authorization: `Bearer ${ready.secret}` };
    const cases = {};
    const run = async (name, spec) => {
      process.stderr.write(`bench: ${backend} ${name}…\n`);
      cases[name] = await measure(spec, settings);
    };
    await run('hello', { url: `${ready.url}/bench/hello` });
    await run('get', { url: `${ready.url}${ready.getPath}`, headers: auth });
    const putHeaders = { ...auth, 'content-type': 'application/json' };
    await run('put', {
      url: `${ready.url}${ready.putPaths[0]}`,
      method: 'PUT',
      headers: putHeaders,
      body: ready.putBody,
      // Each connection overwrites its own key: a write benchmark, not a row-lock queue.
      perConnection: (index) => [
        {
          method: 'PUT',
          path: ready.putPaths[index % ready.putPaths.length],
          headers: putHeaders,
          body: ready.putBody,
        },
      ],
    });
    return { backend, cases };
  } finally {
    const { code, signal } = await stop();
    if (code !== 0) console.error(`bench: the ${backend} server exited with code ${code} (signal ${signal})`);
  }
}

/** Runs the HTTP bench and prints its report; answers the exit status. */
async function runHttpBench() {
  // Bounded: whatever hangs (a child that never answers, a stuck connection), the run ends.
  const perBackendSeconds = 3 * (settings.warmupSeconds + settings.durationSeconds + 5) + 90;
  const watchdog = setTimeout(
    () => {
      console.error('bench: took too long, killing the server processes');
      killChildren();
      process.exit(1);
    },
    settings.backends.length * perBackendSeconds * 1000,
  );
  watchdog.unref();
  const onSignal = () => {
    killChildren();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results = [];
  for (const backend of settings.backends) {
    try {
      results.push(await benchBackend(backend));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`bench: ${backend} failed: ${message}`);
      results.push({ backend, error: message.split('\n')[0] });
    }
  }

  const { text, clean } = formatReport(results, settings);
  console.log(`\n${text}`);
  if (!clean) console.log('\nSome cases failed or had failed requests: their figures are not trustworthy.');
  clearTimeout(watchdog);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return clean ? 0 : 1;
}

const statuses = [];
if (only === undefined || only === 'http') statuses.push(await runHttpBench());
if (only === undefined || only === 'tasks') statuses.push(await runTasksBench());
if (only === undefined || only === 'docs') statuses.push(await runDocsBench());
if (only === undefined || only === 'events') statuses.push(await runEventsBench());
process.exitCode = statuses.some((status) => status !== 0) ? 1 : 0;
