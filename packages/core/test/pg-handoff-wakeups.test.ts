import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIds } from '../src/ids.js';
import type { ClaimRequest, Storage, WakeUp } from '../src/storage/ports.js';
import { createPgliteStorage } from '../src/storage/postgres/pglite.js';
import { createPostgresStorage } from '../src/storage/postgres/postgres.js';
import { newTask } from './fixtures/new-task.js';

/**
 * A submit offered to an idle local slot (see TaskHandoff) that the store inserts claimed
 * sends no wake-up: no other node has anything to claim. Each case inserts a task of a type the
 * offering slot handles (taken: no notification) and then one of a type it does not (left
 * pending: its notification goes out), and checks that the listener heard the second only. On
 * a server, the first insert's notification would travel behind it on the same connection (a
 * pool of one), so had it been sent it would have arrived first.
 */
async function heardAfterTwoOffers(inserter: Storage, listener: Storage): Promise<string[]> {
  const heard: string[] = [];
  let second: () => void = () => undefined;
  const secondHeard = new Promise<void>((resolve) => {
    second = resolve;
  });
  const unsubscribe = await listener.notifier.subscribe('tasks', (payload) => {
    heard.push(payload);
    if (payload === 'normal second') second();
  });
  try {
    const ids = createIds();
    const change = { actor: 'system', ids };
    const now = new Date();
    const claim: ClaimRequest = {
      workerId: 'offering-worker',
      slotClass: 'normal',
      limit: 1,
      types: ['handoff.handled'],
      leaseExpiresAt: new Date(now.getTime() + 60_000),
      agedBefore: now,
    };
    const wakeUp = (payload: string): WakeUp[] => [{ channel: 'tasks', payload }];
    const [taken] = await inserter.tasks.insert([newTask(ids.next('task'), 'handoff.handled', now)], now, now, change, {
      wakeUps: wakeUp('normal first'),
      handoff: { claim, change },
    });
    const [left] = await inserter.tasks.insert([newTask(ids.next('task'), 'handoff.other', now)], now, now, change, {
      wakeUps: wakeUp('normal second'),
      handoff: { claim, change },
    });
    expect(taken?.task.status).toBe('running');
    expect(left?.task.status).toBe('pending');
    await secondHeard;
    return heard;
  } finally {
    await unsubscribe();
  }
}

describe('wake-ups of a submit handed off to a local slot', () => {
  it('PGlite: none when the task was taken, sent when it was left pending', async () => {
    const storage = await createPgliteStorage();
    try {
      expect(await heardAfterTwoOffers(storage, storage)).toEqual(['normal second']);
    } finally {
      await storage.close();
    }
  });

  describe.runIf(process.env.DATABASE_URL)('PostgreSQL server', () => {
    const url = process.env.DATABASE_URL ?? '';
    const schema = `t_${randomBytes(6).toString('hex')}`;
    let inserter: Storage;
    let listener: Storage;
    beforeAll(async () => {
      inserter = await createPostgresStorage({ url, schema, max: 1 });
      listener = await createPostgresStorage({ url, schema, max: 1 });
    });
    afterAll(async () => {
      await Promise.all([inserter?.close(), listener?.close()]);
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });

    it('none when the task was taken, sent when it was left pending (checked by PostgreSQL after the insert)', async () => {
      expect(await heardAfterTwoOffers(inserter, listener)).toEqual(['normal second']);
    });
  });
});
