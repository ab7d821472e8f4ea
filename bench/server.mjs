/**
 * The server under load, run as a child of bench/run.mjs so that the load generator and the
 * server do not share one event loop. Usage (over IPC only): fork('bench/server.mjs', [backend]).
 *
 * It builds a core on the requested backend from the BUILT packages, bootstraps an owner,
 * seeds the keys the cases read and write, mounts a bare `GET /bench/hello` on the same Hono
 * app as createApp's routes, listens on 127.0.0.1 (port 0) and sends
 * `{type: 'ready', url, secret, getPath, putPaths}` to the parent. On `{type: 'stop'}` (or when
 * the parent goes away) it closes the server and the core, drops its PostgreSQL schema, and exits.
 */
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { createCore } from '@proserver/core';
import { createApp } from '@proserver/http';

const backend = process.argv[2];
const SMALL_VALUE = { status: 'green', build: 1234, branch: 'main' };
/** One key per load connection for the PUT case, so connections never wait on each other's row lock. */
const PUT_KEYS = Number(process.env.BENCH_PUT_KEYS ?? 10);

async function createStorage() {
  switch (backend) {
    case 'memory': {
      const { createMemoryStorage } = await import('@proserver/core/memory');
      return { storage: createMemoryStorage(), cleanup: async () => {} };
    }
    case 'pglite': {
      const { createPgliteStorage } = await import('@proserver/core/pglite');
      return { storage: await createPgliteStorage(), cleanup: async () => {} };
    }
    case 'postgres': {
      const { createPostgresStorage } = await import('@proserver/core/postgres');
      const url = process.env.DATABASE_URL;
      const schema = `bench_${randomBytes(6).toString('hex')}`;
      const dropSchema = async () => {
        const { default: postgres } = await import('postgres');
        const admin = postgres(url, { max: 1, onnotice: () => {} });
        try {
          await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await admin.end();
        }
      };
      try {
        return { storage: await createPostgresStorage({ url, schema }), cleanup: dropSchema };
      } catch (error) {
        await dropSchema().catch(() => {});
        throw error;
      }
    }
    default:
      throw new Error(`unknown backend ${backend}`);
  }
}

async function main() {
  const { storage, cleanup } = await createStorage();
  const core = createCore({ storage });
  const { secret } = await core.auth.bootstrap({ tokenName: 'bench' });
  if (!secret) throw new Error('bootstrap issued no owner secret on a fresh storage');

  const getKey = 'bench/get/small';
  await core.kv.upsert({ key: getKey, value: SMALL_VALUE });
  const putKeys = Array.from({ length: PUT_KEYS }, (_, i) => `bench/put/${i}`);
  for (const key of putKeys) await core.kv.upsert({ key, value: SMALL_VALUE });

  const app = createApp(core);
  app.get('/bench/hello', (c) => c.text('hello'));

  const server = await new Promise((resolve) => {
    const listening = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(listening));
  });
  const { port } = server.address();

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    (async () => {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await core.close();
      await cleanup();
    })()
      .then(() => process.exit(0))
      .catch((error) => {
        console.error(`[bench server ${backend}] shutdown failed:`, error);
        process.exit(1);
      });
  };
  process.on('message', (message) => {
    if (message?.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);

  process.send({
    type: 'ready',
    url: `http://127.0.0.1:${port}`,
    secret,
    getPath: `/api/key-value/${getKey}`,
    putPaths: putKeys.map((key) => `/api/key-value/${key}`),
    putBody: JSON.stringify({ value: SMALL_VALUE }),
  });
}

main().catch((error) => {
  process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  console.error(`[bench server ${backend}] failed to start:`, error);
  process.exit(1);
});
