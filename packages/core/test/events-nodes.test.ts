import { randomBytes } from 'node:crypto';
import { type Core, createCore, type Principal, type SubscriptionEndReason } from '@proserver/core';
import { createPostgresStorage } from '@proserver/core/postgres';
import { Collector, isIncreasing, waitUntil } from '@proserver/core/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const SYSTEM: Principal = { kind: 'system' };

describe.runIf(process.env.DATABASE_URL)('event log across nodes on PostgreSQL', () => {
  const url = process.env.DATABASE_URL ?? '';
  const schema = `t_${randomBytes(6).toString('hex')}`;
  let nodeA: Core;
  let nodeB: Core;

  beforeAll(async () => {
    // Two processes' worth of storage on one schema; only node B runs tasks.
    const options = { kv: { sweepIntervalMs: 0 }, events: { purgeIntervalMs: 0, progressEventIntervalMs: 10 } };
    nodeA = createCore({
      storage: await createPostgresStorage({ url, schema, max: 6 }),
      ...options,
      tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
    });
    nodeB = createCore({ storage: await createPostgresStorage({ url, schema, max: 6 }), ...options });
  });
  afterAll(async () => {
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('readers see seq strictly increasing and miss nothing while many writers commit concurrently', async () => {
    const prefix = `race-${randomBytes(3).toString('hex')}`;
    const topics = [`kv:${prefix}/**`];
    const start = (await nodeA.events.read(SYSTEM, { topics: ['events:**'], limit: 1 })).nextAfter;
    const seen: number[] = [];
    let writing = true;
    let cursor = start;
    // A polling reader on node A that never goes back: any event numbered below its cursor
    // after it moved past would be missed, and the final count would not add up.
    const reader = (async () => {
      while (writing || seen.length < 384) {
        const page = await nodeA.storage.events.readAfter(cursor, 50, { typePrefixes: ['kv.'] });
        for (const event of page) {
          expect(event.seq).toBeGreaterThan(cursor);
          cursor = event.seq;
          if (event.subject.startsWith(`${prefix}/`)) seen.push(event.seq);
        }
        if (page.length === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const live = new Collector();
    const subscription = await nodeA.events.subscribe(SYSTEM, topics, live.handler, { since: start });
    // 8 writers per node, each a mix of single-statement writes and transactions (imports).
    const writer = (core: Core, w: number) => async () => {
      for (let i = 0; i < 20; i++) {
        if (i % 5 === 0)
          await core.kv.import([
            { key: `${prefix}/${w}/${i}`, value: i },
            { key: `${prefix}/${w}/${i}b`, value: i },
          ]);
        else await core.kv.upsert({ key: `${prefix}/${w}/${i}`, value: i });
      }
    };
    await Promise.all([
      ...Array.from({ length: 8 }, (_, w) => writer(nodeA, w)()),
      ...Array.from({ length: 8 }, (_, w) => writer(nodeB, w + 8)()),
    ]);
    writing = false;
    await reader;
    await live.waitFor(384);
    await subscription.close();
    // 16 writers × (16 upserts + 4 imports of 2 keys) = 384 events.
    expect(seen).toHaveLength(384);
    expect(isIncreasing(seen)).toBe(true);
    expect(live.seqs()).toEqual(seen);
    const polled = await nodeB.events.read(SYSTEM, { topics, after: start, limit: 1000 });
    expect(polled.items.map((event) => event.seq)).toEqual(seen);
  });

  it('numbering passes racing on several connections number every event once, densely, in append order', async () => {
    const prefix = `seq-${randomBytes(3).toString('hex')}`;
    const { last: start } = await nodeA.storage.events.bounds();
    let writing = true;
    // Passes from both nodes' pools, some waiting for the lock, some giving up when it is held:
    // a pass whose snapshot predates another's commit must neither renumber nor skip a number.
    const passes = [nodeA, nodeB, nodeA, nodeB].map(async (core, n) => {
      while (writing) await core.storage.events.sequencePending({ wait: n % 2 === 0 });
    });
    const writer = async (core: Core, w: number) => {
      for (let i = 0; i < 15; i++) {
        const at = new Date();
        const batch = [0, 1, 2].map((k) => ({
          id: `evt_${prefix}_${w}_${i}_${k}`,
          type: 'custom.race',
          subject: `${prefix}/${w}/${i}`,
          data: { k },
          actor: null,
          at,
        }));
        await core.storage.events.append(batch);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w % 2 === 0 ? nodeA : nodeB, w)));
    writing = false;
    await Promise.all(passes);
    await nodeA.storage.events.sequencePending({ wait: true });
    const numbered = await nodeB.storage.events.readAfter(start, 10_000);
    // Every event after `start` (other writers are idle now) is here once, numbered without gaps.
    expect(numbered.map((event) => event.seq)).toEqual(numbered.map((_, n) => start + n + 1));
    const ours = numbered.filter((event) => event.subject.startsWith(`${prefix}/`));
    expect(ours).toHaveLength(8 * 15 * 3);
    expect(new Set(ours.map((event) => event.id)).size).toBe(ours.length);
    // Each append's three events are numbered in their append order.
    for (const subject of new Set(ours.map((event) => event.subject))) {
      expect(ours.filter((event) => event.subject === subject).map((event) => event.data)).toEqual([
        { k: 0 },
        { k: 1 },
        { k: 2 },
      ]);
    }
  });

  it('a subscriber on node A sees the progress events of a task running on node B, in order, without gaps', async () => {
    const type = `nodes.progress.t${randomBytes(3).toString('hex')}`;
    const definition = {
      type,
      payload: z.any(),
      async run(task: { progress(percent: number, message?: string): void; log: { info(message: string): void } }) {
        for (let step = 1; step <= 10; step++) {
          task.progress(step * 10, `step ${step}`);
          task.log.info(`step ${step}`);
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
        return { steps: 10 };
      },
    };
    nodeB.tasks.define(definition);
    nodeA.tasks.define(definition);
    const task = await nodeA.tasks.submit(SYSTEM, { type });
    const collector = new Collector();
    const subscription = await nodeA.events.subscribe(SYSTEM, [`task:${task.id}`], collector.handler, { since: 0 });
    await waitUntil(() => collector.types().includes('task.completed'), 'node A saw the task complete');
    await subscription.close();
    expect(nodeB.tasks.runningIds()).not.toContain(task.id);
    const types = collector.types();
    expect(types[0]).toBe('task.submitted');
    expect(types[1]).toBe('task.started');
    expect(types.at(-1)).toBe('task.completed');
    const progress = collector.events.filter((event) => event.type === 'task.progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const percents = progress.map((event) => (event.data as { progress: { percent: number } }).progress.percent);
    expect(isIncreasing(percents)).toBe(true);
    expect(percents.at(-1)).toBe(100);
    const logged = await nodeA.events.read(SYSTEM, { topics: [`task:${task.id}`], after: 0, limit: 1000 });
    expect(collector.seqs()).toEqual(logged.items.map((event) => event.seq));
  });

  it('a token revoked on node B ends its subscriptions on node A', async () => {
    const owner = await nodeA.auth.authenticate((await nodeA.auth.bootstrap()).secret as string);
    const issued = await nodeA.tokens.create(owner, { name: 'watcher', expiresInDays: 1, scopes: ['tasks:read'] });
    const principal = await nodeA.auth.authenticate(issued.secret);
    const ends: SubscriptionEndReason[] = [];
    await nodeA.events.subscribe(principal, ['tasks'], () => {}, { onEnd: (reason) => ends.push(reason) });
    await nodeB.tokens.revoke(owner, issued.token.id);
    await waitUntil(() => ends.length > 0, 'the subscription on node A ended');
    expect(ends).toEqual(['token_revoked']);
  });
});
