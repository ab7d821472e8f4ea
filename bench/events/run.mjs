/**
 * The events benchmark (issue 4): WebSocket fan-out across nodes. Node A (an API node) holds
 * BENCH_EVENTS_SUBSCRIBERS WebSocket subscribers (default 1,000, spread over client processes);
 * node B publishes `custom.bench` events at BENCH_EVENTS_RATE per second (default 1,000) for
 * BENCH_EVENTS_DURATION seconds (default 10, after a 2 s warm-up); both share one PostgreSQL
 * schema, so every event travels B → PostgreSQL (insert, numbering, NOTIFY) → A → sockets.
 * Reports p50/p99 publish→receive latency and the messages delivered per second, then stalls
 * one subscriber (it stops reading) and checks that node A disconnects it and its memory
 * returns to where it was. Target: p99 ≤ 50 ms at 1,000 events/s to 1,000 subscribers.
 *
 * `node bench/events/run.mjs` (after `npm run build`) or `npm run bench -- events`.
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { msPer, startCpuMeasure } from '../lib/cpu.mjs';
import { createHistogram, fromSparse, merge, percentile } from './histogram.mjs';

const NODE_SCRIPT = fileURLToPath(new URL('./node.mjs', import.meta.url));
const CLIENTS_SCRIPT = fileURLToPath(new URL('./clients.mjs', import.meta.url));
const FLOOR_SCRIPT = fileURLToPath(new URL('./floor-node.mjs', import.meta.url));
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'];
const num = (name, fallback) => Number(process.env[name] ?? fallback);

function readSettings() {
  return {
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    subscribers: num('BENCH_EVENTS_SUBSCRIBERS', 1000),
    clientProcesses: num('BENCH_EVENTS_CLIENT_PROCESSES', 2),
    rate: num('BENCH_EVENTS_RATE', 1000),
    warmupSeconds: num('BENCH_EVENTS_WARMUP', 2),
    durationSeconds: num('BENCH_EVENTS_DURATION', 10),
    stallSeconds: num('BENCH_EVENTS_STALL_SECONDS', 8),
  };
}

/** Children still alive, killed when the run ends or is interrupted. */
const children = new Set();

function start(script, args, env, execArgv = []) {
  const childEnv = { ...process.env, ...env };
  for (const name of PROXY_VARIABLES) delete childEnv[name];
  const child = fork(script, args, { env: childEnv, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next IPC message of `type` from `child` (rejects on `failed`, exit or timeout). */
function expectMessage(child, type, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(reject, new Error(`no "${type}" message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message) => {
      if (message?.type === type) done(resolve, message);
      else if (message?.type === 'failed') done(reject, new Error(message.message));
    };
    const onExit = (code) => done(reject, new Error(`a child exited (code ${code}) while waiting for "${type}"`));
    const done = (settle, value) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle(value);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function ask(child, message, type, timeoutMs) {
  const answer = expectMessage(child, type, timeoutMs);
  child.send(message);
  return answer;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const cpuMs = (value) => (Number.isFinite(value) ? `${value.toFixed(3)} ms` : 'n/a');
const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');

/** The client processes, their share of the subscribers each, connected and subscribed to `ready.url`. */
async function startClients(settings, ready) {
  const wsUrl = `${ready.url.replace('http:', 'ws:')}/api/ws`;
  const clients = [];
  for (let i = 0; i < settings.clientProcesses; i++) {
    const share =
      Math.floor(settings.subscribers / settings.clientProcesses) +
      (i < settings.subscribers % settings.clientProcesses ? 1 : 0);
    clients.push(start(CLIENTS_SCRIPT, [wsUrl, String(share)], { BENCH_EVENTS_TOKEN: ready.secret }));
  }
  await Promise.all(clients.map((client) => expectMessage(client, 'ready', 120_000)));
  return clients;
}

/** Stops every child (asked, then killed after a second). */
async function stopChildren() {
  for (const child of children) child.send?.({ type: 'stop' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const child of children) child.kill('SIGKILL');
}

async function collect(clients) {
  const reports = await Promise.all(clients.map((client) => ask(client, { type: 'report' }, 'report', 30_000)));
  const histogram = createHistogram();
  let received = 0;
  for (const report of reports) {
    merge(histogram, fromSparse(report.histogram));
    received += report.received;
  }
  return { histogram, received };
}

async function measure(settings, { subscriberNode, publisher, clients }) {
  process.stderr.write(`bench: events warm-up ${settings.warmupSeconds} s…\n`);
  await ask(publisher, { type: 'publish', rate: settings.rate, seconds: settings.warmupSeconds }, 'published', 120_000);
  // Let the warm-up's messages arrive before the figures are reset (bounded to 30 s).
  for (let i = 0, last = -1, received = 0; i < 60; i++, last = received) {
    received = (await collect(clients)).received;
    if (received === last) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await Promise.all(clients.map((client) => client.send({ type: 'reset' })));
  process.stderr.write(`bench: events ${settings.durationSeconds} s at ${settings.rate} events/s…\n`);
  const clientPids = Object.fromEntries(clients.map((client, n) => [`client${n}`, client.pid]));
  const nodes =
    publisher === subscriberNode ? { nodeA: subscriberNode.pid } : { nodeA: subscriberNode.pid, nodeB: publisher.pid };
  const cpu = startCpuMeasure({ ...nodes, ...clientPids });
  const published = await ask(
    publisher,
    { type: 'publish', rate: settings.rate, seconds: settings.durationSeconds },
    'published',
    (settings.durationSeconds + 120) * 1000,
  );
  // CPU ms per event published: everything the fan-out of one event to every subscriber cost.
  const perProcess = msPer(cpu.stop(), published.count);
  const clientMs = Object.keys(clientPids).map((name) => perProcess[name]);
  const cpuMsPerEvent = {
    ...perProcess,
    clients: clientMs.some((value) => value === null) ? null : clientMs.reduce((sum, value) => sum + value, 0),
  };
  const expected = published.count * settings.subscribers;
  // Drain: wait until every message arrived or nothing moved for 3 s (bounded to 30 s).
  let last = -1;
  let still = 0;
  let result = await collect(clients);
  for (let i = 0; i < 60 && result.received < expected && still < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    result = await collect(clients);
    still = result.received === last ? still + 1 : 0;
    last = result.received;
  }
  return { published, expected, cpuMsPerEvent, ...result };
}

async function stall(settings, { subscriberNode, publisher, clients }) {
  process.stderr.write('bench: events stalled subscriber…\n');
  const before = (await ask(subscriberNode, { type: 'memory' }, 'memory')).rssBytes;
  const client = clients[0];
  await ask(client, { type: 'stall' }, 'stalling');
  let peak = before;
  let sampling = false;
  const sampler = setInterval(async () => {
    if (sampling) return;
    sampling = true;
    const { rssBytes } = await ask(subscriberNode, { type: 'memory' }, 'memory').catch(() => ({ rssBytes: 0 }));
    peak = Math.max(peak, rssBytes);
    sampling = false;
  }, 250);
  // 16 KiB events at 200/s to the stalled socket only: ~3 MiB/s that nobody reads.
  const published = await ask(
    publisher,
    { type: 'publish', rate: 200, seconds: settings.stallSeconds, padBytes: 16 * 1024, eventType: 'custom.stall' },
    'published',
    (settings.stallSeconds + 60) * 1000,
  );
  clearInterval(sampler);
  const closed = expectMessage(client, 'stalled', 30_000);
  client.send({ type: 'resume' });
  const { code, reason } = await closed;
  const after = (await ask(subscriberNode, { type: 'memory' }, 'memory')).rssBytes;
  return { before, peak, after, code, reason, sentBytes: published.count * 16 * 1024 };
}

function report(settings, run, floor) {
  const seconds = run.published.seconds;
  const row = (label, r) => {
    const cpu = r.cpuMsPerEvent;
    return [
      label.padEnd(34),
      `${r.received}/${r.expected}`.padStart(19),
      ms(percentile(r.histogram, 0.5)).padStart(9),
      ms(percentile(r.histogram, 0.99)).padStart(9),
      ms(percentile(r.histogram, 1)).padStart(9),
      cpuMs(cpu.machine).padStart(9),
      cpuMs(cpu.nodeA).padStart(9),
      (cpu.nodeB === undefined ? '-' : cpuMs(cpu.nodeB)).padStart(9),
      cpuMs(cpu.clients).padStart(9),
    ].join('  ');
  };
  const p99 = percentile(run.histogram, 0.99);
  const answered = fromSparse(run.published.answered);
  const met = p99 <= 50 && settings.rate >= 1000 && settings.subscribers >= 1000 && run.received === run.expected;
  return [
    `Events: ${settings.subscribers} WebSocket subscribers, ${settings.rate} events/s asked (ProServer published ${run.published.count} in ${seconds.toFixed(1)} s: ${(run.published.count / seconds).toFixed(0)}/s)`,
    '',
    `${''.padEnd(34)}  ${''.padStart(19)}  ${'latency publish → receive'.padEnd(31)}  CPU ms per event`,
    `${'system'.padEnd(34)}  ${'delivered'.padStart(19)}  ${'p50'.padStart(9)}  ${'p99'.padStart(9)}  ${'max'.padStart(9)}  ${'machine'.padStart(9)}  ${'node A'.padStart(9)}  ${'node B'.padStart(9)}  ${'clients'.padStart(9)}`,
    row('ProServer: B → PostgreSQL → A', run),
    ...(floor ? [row('floor: bare ws server, no database', floor)] : []),
    '',
    "  (CPU: the rest of the machine's is PostgreSQL and the kernel's network work; the floor publishes from its one process)",
    `  node B         publish → seq answered (append and numbering, one transaction): p50 ${ms(percentile(answered, 0.5))}, p99 ${ms(percentile(answered, 0.99))}`,
    `  target         p99 ≤ 50 ms at 1000 events/s to 1000 subscribers: ${met ? 'met' : 'NOT met'}`,
  ].join('\n');
}

function stallReport(stalled) {
  return [
    `Stalled subscriber: ${mb(stalled.sentBytes)} published to it; closed with ${stalled.code} "${stalled.reason}"`,
    `  node A RSS     before ${mb(stalled.before)}, peak ${mb(stalled.peak)}, after ${mb(stalled.after)}`,
  ].join('\n');
}

/** Runs the events bench and prints its report; answers the exit status. */
export async function runEventsBench() {
  const settings = readSettings();
  const schema = `bench_events_${randomBytes(6).toString('hex')}`;
  const env = { DATABASE_URL: settings.databaseUrl, BENCH_EVENTS_SCHEMA: schema };
  const admin = postgres(settings.databaseUrl, { max: 1, onnotice: () => {} });
  const watchdog = setTimeout(
    () => {
      console.error('bench: events took too long, killing its processes');
      for (const child of children) child.kill('SIGKILL');
      process.exit(1);
    },
    (2 * (settings.warmupSeconds + settings.durationSeconds) + settings.stallSeconds + 300) * 1000,
  );
  watchdog.unref();
  try {
    // BENCH_EVENTS_PROFILE: CPU profiles of node A and node B, in its node-a/ and node-b/.
    const profile = (node) =>
      process.env.BENCH_EVENTS_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_EVENTS_PROFILE}/${node}`]
        : [];
    const subscriberNode = start(NODE_SCRIPT, ['subscriber'], env, ['--expose-gc', ...profile('node-a')]);
    const ready = await expectMessage(subscriberNode, 'ready');
    const publisher = start(NODE_SCRIPT, ['publisher'], env, profile('node-b'));
    await expectMessage(publisher, 'ready');
    const proserver = { subscriberNode, publisher, clients: await startClients(settings, ready) };
    const run = await measure(settings, proserver);
    const stalled = await stall(settings, proserver);
    await stopChildren();
    let floor;
    if (process.env.BENCH_EVENTS_FLOOR !== '0') {
      process.stderr.write('bench: events floor (bare ws server)…\n');
      const floorNode = start(FLOOR_SCRIPT, [], {});
      const floorReady = await expectMessage(floorNode, 'ready');
      const clients = await startClients(settings, floorReady);
      floor = await measure(settings, { subscriberNode: floorNode, publisher: floorNode, clients });
    }
    console.log(`\n${report(settings, run, floor)}`);
    console.log(stallReport(stalled));
    const clean = run.received === run.expected && stalled.code === 4008;
    return clean ? 0 : 1;
  } catch (error) {
    console.error(`bench: events failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    await stopChildren();
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await admin.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runEventsBench();
}
