/**
 * The document-store benchmark (`npm run bench -- docs`): 100,100 documents across 100
 * projects on PostgreSQL, loaded through core in commit batches, then p50/p99 latency
 * through HTTP of get-by-path, a collection page, a filtered + sorted collection-group query
 * returning 50 documents, and a write with If-Match; then the EXPLAIN (ANALYZE) plans of the
 * two queries. Targets: p99 ≤ 10 ms (get, write), ≤ 25 ms (collection-group query).
 *
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_DURATION
 * (s per case, default 5), BENCH_WARMUP (default 3), BENCH_CONNECTIONS (default 10),
 * BENCH_DOCS_PROFILE (a folder: the server writes a V8 CPU profile there), BENCH_DOCS_CASES (a
 * comma-separated subset of get,list,group,write; default all: `write` runs both write cases).
 * Bounded: a watchdog kills the server after 10 minutes; its schema is dropped on stop.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measure } from '../lib/load.mjs';
import { PROXY_VARIABLES } from '../lib/server-process.mjs';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-server.mjs', import.meta.url));
const WATCHDOG_MS = 10 * 60_000;
const TARGETS = { get: 10, write: 10, group: 25 };

const fixed = (value) => (Number.isFinite(value) ? value.toFixed(2) : '-');

/** Runs the benchmark, prints the report and answers the exit status (0 when clean and on target). */
export async function runDocsBench() {
  const settings = {
    durationSeconds: Number(process.env.BENCH_DURATION ?? 5),
    // Three seconds: a write run's first two or so are slower than the rest (see measure()).
    warmupSeconds: Number(process.env.BENCH_WARMUP ?? 3),
    connections: Number(process.env.BENCH_CONNECTIONS ?? 10),
    cases: new Set((process.env.BENCH_DOCS_CASES ?? 'get,list,group,write').split(',').map((name) => name.trim())),
  };
  const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' };
  for (const name of PROXY_VARIABLES) {
    delete env[name];
    delete process.env[name];
  }
  const execArgv = process.env.BENCH_DOCS_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DOCS_PROFILE}`]
    : [];
  const server = startChild(SERVER, env, execArgv);
  const { child, next } = server;
  settings.serverPid = child.pid;
  const watchdog = setTimeout(() => {
    console.error('bench docs: took too long, killing the server');
    child.kill('SIGKILL');
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    process.stderr.write('bench docs: loading 100,100 documents…\n');
    const ready = await next('ready');
    process.stderr.write(`bench docs: loaded ${ready.total} documents in ${(ready.loadMs / 1000).toFixed(1)} s\n`);
    const auth = { authorization: `Bearer ${ready.secret}` };
    const api = `${ready.url}/api/doc-store`;
    const cases = {};
    const run = async (name, spec) => {
      if (!settings.cases.has(name)) return;
      process.stderr.write(`bench docs: ${name}…\n`);
      cases[name] = await measure(spec, settings);
    };
    await run('get', {
      url: `${api}/docs/projects/p42/releases/r3/checks/c17`,
      headers: auth,
      perConnection: (i) => [
        {
          method: 'GET',
          path: `/api/doc-store/docs/projects/p${(i * 7) % 100}/releases/r${i % 10}/checks/c${(i * 13) % 99}`,
          headers: auth,
        },
      ],
    });
    await run('list', { url: `${api}/docs/projects/p42/releases/r3/checks?limit=50`, headers: auth });
    const groupBody = JSON.stringify({
      from: { collection: 'checks', allDescendants: true },
      where: { status: 'failed', attempts: { $gte: 2 } },
      orderBy: [{ field: 'updatedAt', direction: 'desc' }],
      limit: 50,
    });
    const json = { ...auth, 'content-type': 'application/json' };
    await run('group', { url: `${api}/query`, method: 'POST', headers: json, body: groupBody });
    const writes = writeTarget(ready.url, ready.writePaths, json);
    /** The current revision of every write document (read over HTTP after a case). */
    const refreshRevisions = () =>
      Promise.all(
        ready.writePaths.map(async ({ path }) => {
          const response = await fetch(`${api}/docs/${path}`, { headers: auth });
          return (await response.json()).revision;
        }),
      );
    await run('write', writes.spec(settings.connections));
    // Ten writers of different documents do not wait for each other's locks, but they share the
    // machine's two CPUs with PostgreSQL and the load generator, so each also waits its turn
    // there; one writer shows the latency of a write itself.
    if (settings.cases.has('write')) {
      writes.reset(await refreshRevisions());
      process.stderr.write('bench docs: write (1 connection)…\n');
      cases.write1 = await measure(writes.spec(1), { ...settings, connections: 1 });
    }
    child.send({ type: 'explain' });
    const { plans } = await next('plans');
    await server.stop();
    // The same writes against the floor (floor-server.mjs), ProServer's server stopped.
    if (settings.cases.has('write')) {
      process.stderr.write('bench docs: floor write (bare HTTP server, one UPDATE)…\n');
      const floor = startChild(FLOOR, env, []);
      try {
        const floorReady = await floor.next('ready');
        const floorWrites = writeTarget(floorReady.url, floorReady.writePaths, json);
        cases.floor = await measure(floorWrites.spec(settings.connections), {
          ...settings,
          serverPid: floor.child.pid,
        });
      } finally {
        await floor.stop();
      }
    }

    const rows = [
      ['get by path', cases.get, TARGETS.get],
      ['list a collection page (50)', cases.list, undefined],
      ['collection-group query (50)', cases.group, TARGETS.group],
      [`write with If-Match (${settings.connections} conn.)`, cases.write, TARGETS.write],
      ['write with If-Match (1 conn.)', cases.write1, TARGETS.write],
      [`floor: bare write (${settings.connections} conn.)`, cases.floor, undefined],
    ];
    const lines = [
      `Document store on PostgreSQL: ${ready.total} documents (loaded in ${(ready.loadMs / 1000).toFixed(1)} s), ` +
        `${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per case`,
      '',
      'case                            req/s   p50 ms   p99 ms   failed   target p99      CPU ms/req: machine  server  load gen.',
      '------------------------------  ------  -------  -------  -------  --------------  -------------------  ------  ---------',
    ];
    let clean = true;
    for (const [label, r, target] of rows) {
      if (r === undefined) continue;
      const verdict = target === undefined ? '-' : r.p99 <= target ? `<= ${target} met` : `<= ${target} NOT met`;
      if (r.failed > 0 || (target !== undefined && r.p99 > target)) clean = false;
      lines.push(
        `${label.padEnd(30)}  ${r.rps.toFixed(0).padStart(6)}  ${fixed(r.p50).padStart(7)}  ${fixed(r.p99).padStart(7)}  ${String(r.failed).padStart(7)}  ${verdict.padEnd(14)}  ${fixed(r.cpuMs.machine).padStart(19)}  ${fixed(r.cpuMs.server).padStart(6)}  ${fixed(r.cpuMs.load).padStart(9)}`,
      );
    }
    for (const [name, plan] of Object.entries(plans)) lines.push('', `EXPLAIN (ANALYZE, BUFFERS): ${name}`, plan);
    console.log(`\n${lines.join('\n')}`);
    return clean ? 0 : 1;
  } finally {
    await server.stop();
    clearTimeout(watchdog);
  }
}

/** Forks a server script; `next(type)` waits for its message of that type, `stop()` ends it. */
function startChild(script, env, execArgv) {
  const child = fork(script, [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.type === type) {
          child.off('message', onMessage);
          resolve(message);
        } else if (message?.type === 'failed') reject(new Error(message.message));
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`server exited (code ${code})`)));
    });
  const stop = async () => {
    if (child.connected) child.send({ type: 'stop' });
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  };
  return { child, next, stop };
}

/**
 * The write case against a server at `baseUrl`: each connection writes its own document of
 * `writePaths` with `If-Match` carrying the revision it last saw. The warm-up and the measured
 * run use different documents: requests still in flight when the warm-up stops may commit
 * without their answer being read, which would leave a stale revision behind (the next write
 * would be a 412).
 */
function writeTarget(baseUrl, writePaths, headers) {
  const revisions = writePaths.map((w) => w.revision);
  let connectionsSetUp = 0;
  return {
    /** Starts again with these revisions (read back after a case). */
    reset(current) {
      connectionsSetUp = 0;
      revisions.splice(0, revisions.length, ...current);
    },
    spec: (connections) => ({
      url: `${baseUrl}/api/doc-store/docs/${writePaths[0].path}`,
      method: 'PUT',
      headers,
      perConnection: (i) => {
        const slot = (Math.floor(connectionsSetUp++ / connections) * connections + i) % revisions.length;
        return [
          {
            method: 'PUT',
            path: `/api/doc-store/docs/${writePaths[slot].path}`,
            headers,
            body: JSON.stringify({ data: { n: i, status: 'ok' } }),
            setupRequest: (request) => ({
              ...request,
              headers: { ...request.headers, 'if-match': `"${revisions[slot]}"` },
            }),
            onResponse: (status, body) => {
              // A 412 carries the current revision: take it, as a real client would.
              const answer = JSON.parse(body);
              revisions[slot] = status === 200 ? answer.revision : (answer.currentRevision ?? revisions[slot]);
            },
          },
        ];
      },
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await runDocsBench();
