import { randomBytes } from 'node:crypto';
import { type Core, createCore, isProServerError, SYSTEM_PRINCIPAL } from '@proserver/core';
import { createPostgresStorage } from '@proserver/core/postgres';
import { describeDocContract, testBackendNames } from '@proserver/core/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathLockKeys } from '../src/storage/postgres/doc-store-commit.js';

for (const backend of testBackendNames()) describeDocContract(backend);

const S = SYSTEM_PRINCIPAL;

/** Settles every promise and counts fulfilled ones and errors by code. */
async function outcomes(promises: Promise<unknown>[]): Promise<{ ok: number; codes: string[] }> {
  const settled = await Promise.allSettled(promises);
  const codes = settled
    .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    .map((s) => (isProServerError(s.reason) ? s.reason.code : String(s.reason)));
  return { ok: settled.filter((s) => s.status === 'fulfilled').length, codes };
}

describe.runIf(process.env.DATABASE_URL)('document writers on PostgreSQL, concurrently', () => {
  const url = process.env.DATABASE_URL ?? '';
  const schema = `t_${randomBytes(6).toString('hex')}`;
  let core: Core;
  let admin: postgres.Sql;

  beforeAll(async () => {
    admin = postgres(url, { max: 2, onnotice: () => {} });
    core = createCore({
      storage: await createPostgresStorage({ url, schema, max: 10 }),
      kv: { sweepIntervalMs: 0 },
      tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
    });
  });
  afterAll(async () => {
    await core?.close();
    await admin?.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  it('a writer waits only for writers of its own document', async () => {
    const prefix = `nb${randomBytes(3).toString('hex')}`;
    // Another session holds the lock a writer of `${prefix}/a` takes (the keys ignore the schema).
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = admin.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(7301005, ${pathLockKeys([`${prefix}/a`])[0] ?? 0}::int)`;
      locked();
      await released;
    });
    await lockTaken;
    let blockedDone = false;
    const blocked = core.docs.set(S, `${prefix}/a`, { n: 1 }).then((doc) => {
      blockedDone = true;
      return doc;
    });
    const other = await core.docs.set(S, `${prefix}/b`, { n: 1 });
    expect(other.version).toBe(1);
    expect(blockedDone).toBe(false);
    release();
    await holder;
    expect((await blocked).version).toBe(1);
  });

  it('of concurrent creators that expect no document, exactly one wins', async () => {
    const path = `cr${randomBytes(3).toString('hex')}/a`;
    const result = await outcomes(
      Array.from({ length: 8 }, (_, i) => core.docs.set(S, path, { i }, { expect: { exists: false } })),
    );
    expect(result).toEqual({ ok: 1, codes: Array(7).fill('PRECONDITION_FAILED') });
    expect((await core.docs.get(S, path)).version).toBe(1);
  });

  it('of concurrent writers over one revision, exactly one wins; unconditional writers each get a version', async () => {
    const path = `im${randomBytes(3).toString('hex')}/a`;
    const first = await core.docs.set(S, path, { n: 0 });
    const result = await outcomes(
      Array.from({ length: 8 }, (_, i) => core.docs.set(S, path, { i }, { expect: { revision: first.revision } })),
    );
    expect(result).toEqual({ ok: 1, codes: Array(7).fill('PRECONDITION_FAILED') });
    const writes = await Promise.all(Array.from({ length: 12 }, (_, i) => core.docs.set(S, path, { i })));
    expect(writes.map((doc) => doc.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 3));
    expect(new Set(writes.map((doc) => doc.revision)).size).toBe(12);
    expect((await core.docs.get(S, path)).version).toBe(14);
  });

  it('commits touching the same documents in opposite orders all apply, atomically', async () => {
    const root = `xo${randomBytes(3).toString('hex')}`;
    const [x, y] = [`${root}/x`, `${root}/y`];
    const commits = Array.from({ length: 10 }, (_, i) =>
      core.docs.commit(
        S,
        (i % 2 === 0 ? [x, y] : [y, x]).map((path) => ({ op: 'set' as const, path, data: { i } })),
      ),
    );
    expect((await outcomes(commits)).ok).toBe(10);
    const [dx, dy] = [await core.docs.get(S, x), await core.docs.get(S, y)];
    expect([dx.version, dy.version]).toEqual([10, 10]);
    // The last commit to apply wrote both documents.
    expect(dx.data).toEqual(dy.data);
  });

  it('two nodes incrementing the same documents with If-Match retries lose no update (group commit under contention)', async () => {
    // A second node on the same schema: its batches and this one's contend for the same path
    // locks, so commits leave batches to run alone; recursive deletes (always alone) mixed in.
    const other = createCore({
      storage: await createPostgresStorage({ url, schema, max: 6 }),
      kv: { sweepIntervalMs: 0 },
      tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
    });
    try {
      const root = `inc${randomBytes(3).toString('hex')}`;
      const paths = [`${root}/x`, `${root}/y`];
      for (const path of paths) await core.docs.set(S, path, { n: 0 });
      let written = 0;
      const increment = async (node: Core, path: string) => {
        for (;;) {
          const doc = await node.docs.get(S, path);
          try {
            await node.docs.set(S, path, { n: (doc.data.n as number) + 1 }, { expect: { revision: doc.revision } });
            written++;
            return;
          } catch (error) {
            if (!isProServerError(error) || error.code !== 'PRECONDITION_FAILED') throw error;
          }
        }
      };
      const writer = async (w: number) => {
        const node = w % 2 === 0 ? core : other;
        for (let i = 0; i < 12; i++) {
          await increment(node, paths[(w + i) % paths.length] as string);
          if (i % 6 === 0) {
            await node.docs.set(S, `${root}-t${w}/a/s/b`, { i });
            await node.docs.delete(S, `${root}-t${w}/a`, { recursive: true });
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
      let total = 0;
      for (const path of paths) total += (await core.docs.get(S, path)).data.n as number;
      expect(written).toBe(8 * 12);
      expect(total).toBe(written);
      await Promise.all([core.events.flush(), other.events.flush()]);
      const events = (await core.storage.events.readAfter(0, 100_000)).filter((e) => paths.includes(e.subject));
      expect(events).toHaveLength(written + paths.length);
    } finally {
      await other.close();
    }
  });

  it('a polling change-feed reader misses nothing while writers commit out of revision order', async () => {
    const root = `fd${randomBytes(3).toString('hex')}`;
    await core.events.flush();
    let cursor = (await core.docs.changes(S, { collection: root, limit: 1000 })).nextAfter;
    const seen: string[] = [];
    let writing = true;
    const poll = async () => {
      const page = await core.docs.changes(S, { after: cursor, collection: root, limit: 7 });
      for (const item of page.items) {
        expect(item.seq).toBeGreaterThan(cursor);
        seen.push(`${item.path}@${item.version}`);
      }
      expect(page.nextAfter).toBeGreaterThanOrEqual(cursor);
      cursor = page.nextAfter;
      return page.items.length;
    };
    const reader = (async () => {
      while (writing) {
        await core.events.flush();
        if ((await poll()) === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const writer = async (w: number) => {
      for (let i = 0; i < 10; i++) await core.docs.set(S, `${root}/w${w}`, { i });
    };
    await Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
    writing = false;
    await reader;
    await core.events.flush();
    while ((await poll()) > 0);
    const expected = Array.from({ length: 6 }, (_, w) =>
      Array.from({ length: 10 }, (_, i) => `${root}/w${w}@${i + 1}`),
    );
    expect([...seen].sort()).toEqual(expected.flat().sort());
  });
});
