/**
 * One ProServer node of the events benchmark, forked by bench/events/run.mjs, on the shared
 * PostgreSQL schema given in BENCH_EVENTS_SCHEMA (from the BUILT packages).
 *
 * `node.mjs subscriber`: an API node (no task workers) listening on 127.0.0.1:0; sends
 * `{type:'ready', url, secret}`; answers `{type:'memory'}` with its RSS (after a GC when
 * started with --expose-gc).
 * `node.mjs publisher`: a core only; on `{type:'publish', rate, seconds, padBytes}` publishes
 * `custom.bench` events at that rate (data: `{sentAt, pad}`, sentAt in epoch ms with
 * sub-millisecond precision) and answers `{type:'published', count, seconds, answered}`
 * (`answered`: how long each publish took to answer its seq, as a sparse histogram).
 * Both stop on `{type:'stop'}` or when the parent goes away.
 */
import { createCore, SYSTEM_PRINCIPAL } from '@proserver/core';
import { createPostgresStorage } from '@proserver/core/postgres';
import { startServer } from '@proserver/http';
import { createHistogram, record, toSparse } from './histogram.mjs';

const role = process.argv[2];
const url = process.env.DATABASE_URL;
const schema = process.env.BENCH_EVENTS_SCHEMA;
const NO_WORKERS = { workers: { critical: 0, normal: 0, batch: 0 } };

const now = () => performance.timeOrigin + performance.now();

async function main() {
  const core = createCore({ storage: await createPostgresStorage({ url, schema }), tasks: NO_WORKERS });
  let server;
  let secret;
  if (role === 'subscriber') {
    secret = (await core.auth.bootstrap()).secret;
    server = await startServer({ core, port: 0, hostname: '127.0.0.1' });
  }
  const stop = async () => {
    await server?.close().catch(() => {});
    await core.close().catch(() => {});
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('message', async (message) => {
    try {
      if (message?.type === 'stop') await stop();
      else if (message?.type === 'memory') {
        globalThis.gc?.();
        process.send({ type: 'memory', rssBytes: process.memoryUsage().rss });
      } else if (message?.type === 'publish') {
        process.send({ type: 'published', ...(await publish(core, message)) });
      }
    } catch (error) {
      process.send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  });
  process.send({ type: 'ready', ...(server ? { url: server.url, secret } : {}) });
}

/** Publishes `rate` events per second for `seconds`, in 10 ms ticks; bounded by the duration. */
async function publish(core, { rate, seconds, padBytes, eventType }) {
  const pad = 'x'.repeat(padBytes ?? 0);
  const tickMs = 10;
  const perTick = rate / (1000 / tickMs);
  const started = now();
  const inFlight = new Set();
  const answered = createHistogram();
  let due = 0;
  let sent = 0;
  while (now() - started < seconds * 1000) {
    due += perTick;
    while (sent < Math.floor(due)) {
      sent++;
      const sentAt = now();
      const promise = core.events
        .publish(SYSTEM_PRINCIPAL, { type: eventType ?? 'custom.bench', data: { sentAt, pad } })
        .then(() => record(answered, now() - sentAt))
        .finally(() => inFlight.delete(promise));
      inFlight.add(promise);
    }
    const next = started + (sent / rate) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(tickMs, next - now()))));
  }
  await Promise.all(inFlight);
  return { count: sent, seconds: (now() - started) / 1000, answered: toSparse(answered) };
}

main().catch((error) => {
  process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
