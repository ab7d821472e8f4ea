/**
 * The document-store benchmark's server, run as a child of bench/docs/run.mjs (so load and
 * server do not share an event loop). It creates a core on PostgreSQL in its own schema,
 * bulk-loads 100 projects × 10 releases × 99 checks (+ the projects and releases: 100,100
 * documents) through `core.docs.commit` in batches of 500, serves the HTTP app on 127.0.0.1
 * and answers `{type: 'ready', url, secret}`. On `{type: 'explain'}` it answers the EXPLAIN
 * (ANALYZE, BUFFERS) plans of the two measured queries; on `{type: 'stop'}` it closes
 * everything and drops its schema.
 */
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { createCore, SYSTEM_PRINCIPAL } from '@proserver/core';
import { createPostgresStorage } from '@proserver/core/postgres';
import { createApp } from '@proserver/http';
import postgres from 'postgres';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_docs_${randomBytes(6).toString('hex')}`;
/** Fewer projects (BENCH_DOCS_PROJECTS) make a quick smoke run; the report counts what was loaded. */
const PROJECTS = Number(process.env.BENCH_DOCS_PROJECTS ?? 100);
const RELEASES = 10;
const CHECKS = 99;
const BATCH = 500;
const STATUSES = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'running', 'ok', 'failed', 'ok'];

/** The statements the store runs for the two measured queries (see doc-query-compiler.ts). */
export const QUERIES = {
  'list a collection page': `SELECT d.path, d.data::text AS data FROM documents d
    WHERE d.parent_path = 'projects/p42/releases/r3' AND d.collection = 'checks' AND true AND true
    ORDER BY d.path ASC LIMIT 51`,
  'collection-group query (status = failed, attempts >= 2, updatedAt desc)': `SELECT d.path, d.data::text AS data FROM documents d
    WHERE d.collection = 'checks' AND true
      AND ((d.data @> '{"status":"failed"}'::text::jsonb)
           AND COALESCE(jsonb_typeof((d.data #> '{"attempts"}'::text[])) = 'number'
                        AND (d.data #> '{"attempts"}'::text[]) >= '2'::text::jsonb, false))
    ORDER BY d.updated_at DESC, d.path DESC LIMIT 51`,
};

function* allWrites() {
  for (let p = 0; p < PROJECTS; p++) {
    yield { op: 'set', path: `projects/p${p}`, data: { name: `Project ${p}`, tier: p % 3 } };
    for (let r = 0; r < RELEASES; r++) {
      yield { op: 'set', path: `projects/p${p}/releases/r${r}`, data: { version: `1.${r}.0`, project: p } };
      for (let c = 0; c < CHECKS; c++) {
        const n = p * 1000 + r * 100 + c;
        yield {
          op: 'set',
          path: `projects/p${p}/releases/r${r}/checks/c${c}`,
          data: {
            status: STATUSES[(n * 7) % STATUSES.length],
            attempts: n % 5,
            suite: n % 2 === 0 ? 'unit' : 'e2e',
            durationMs: (n * 37) % 5000,
            tags: [`t${n % 7}`, `t${n % 11}`],
          },
        };
      }
    }
  }
}

async function main() {
  const storage = await createPostgresStorage({ url, schema, max: 20 });
  const core = createCore({ storage, tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
  const admin = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  let stopping = false;
  let server;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    await core.close();
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('message', async (message) => {
    if (message?.type === 'stop') await stop();
    if (message?.type === 'explain') {
      const plans = {};
      for (const [name, text] of Object.entries(QUERIES)) {
        const rows = await admin.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${text}`);
        plans[name] = rows.map((row) => row['QUERY PLAN']).join('\n');
      }
      process.send({ type: 'plans', plans });
    }
  });
  try {
    const { secret } = await core.auth.bootstrap({ tokenName: 'bench-docs' });
    const started = Date.now();
    let batch = [];
    let total = 0;
    for (const write of allWrites()) {
      batch.push(write);
      if (batch.length === BATCH) {
        await core.docs.commit(SYSTEM_PRINCIPAL, batch);
        total += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) await core.docs.commit(SYSTEM_PRINCIPAL, batch);
    total += batch.length;
    const loadMs = Date.now() - started;
    await admin.unsafe('ANALYZE documents');
    await admin.unsafe('ANALYZE document_history');
    const writePaths = [];
    for (let i = 0; i < 64; i++) {
      const doc = await core.docs.set(SYSTEM_PRINCIPAL, `projects/p${i}/releases/r0/bench/w${i}`, { n: 0 });
      writePaths.push({ path: doc.path, revision: doc.revision });
    }
    const app = createApp(core);
    server = await new Promise((resolve) => {
      const listening = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(listening));
    });
    const { port } = server.address();
    process.send({ type: 'ready', url: `http://127.0.0.1:${port}`, secret, total, loadMs, writePaths });
  } catch (error) {
    process.send({ type: 'failed', message: error instanceof Error ? error.stack : String(error) });
    await stop();
  }
}

await main();
