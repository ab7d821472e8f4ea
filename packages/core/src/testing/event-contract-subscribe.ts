import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Principal } from '../auth/types.js';
import type { SubscriptionEndReason } from '../events/types.js';
import type { Core } from '../index.js';
import { Collector, type EventContractContext, isIncreasing, lastSeq, SYSTEM } from './event-contract-context.js';
import { expectKvError } from './kv-contract-context.js';
import { waitUntil } from './task-contract-context.js';

/** Live subscriptions: replay, live delivery, scopes, token validity, retention, coalescing. */
export function eventSubscribeContract(ctx: EventContractContext): void {
  describe('subscriptions', () => {
    let core: Core;
    let owner: Principal;
    beforeAll(async () => {
      core = await ctx.startCore({ tasks: { pollIntervalMs: 50 } });
      owner = await core.auth.authenticate((await core.auth.bootstrap()).secret as string);
    });

    it('replays from since, then continues live with no gaps and no duplicates', async () => {
      const p = ctx.unique('live');
      const since = await lastSeq(core);
      for (let i = 0; i < 5; i++) await core.kv.upsert({ key: `${p}/k${i}`, value: i });
      const collector = new Collector();
      const subscription = await core.events.subscribe(SYSTEM, [`kv:${p}/*`], collector.handler, { since });
      // While replay may still be running, more writes arrive.
      const writes = Array.from({ length: 20 }, (_, i) => core.kv.upsert({ key: `${p}/k${i % 7}`, value: i }));
      await Promise.all(writes);
      await collector.waitFor(25);
      await subscription.close();
      expect(isIncreasing(collector.seqs())).toBe(true);
      expect(collector.events).toHaveLength(25);
      const logged = await core.events.read(SYSTEM, { topics: [`kv:${p}/*`], after: since, limit: 1000 });
      expect(collector.seqs()).toEqual(logged.items.map((e) => e.seq));
      expect(subscription.lastSeq).toBeGreaterThanOrEqual(logged.items.at(-1)?.seq ?? 0);
      // Nothing arrives after close.
      await core.kv.upsert({ key: `${p}/after`, value: 1 });
      await core.events.flush();
      expect(collector.events).toHaveLength(25);
    });

    it('hands every live subscriber the same read-only event object (transports serialise it once)', async () => {
      const p = ctx.unique('shared');
      const first = new Collector();
      const second = new Collector();
      const subscriptions = await Promise.all([
        core.events.subscribe(SYSTEM, [`kv:${p}/*`], first.handler),
        core.events.subscribe(SYSTEM, [`kv:${p}/*`], second.handler),
      ]);
      await core.kv.upsert({ key: `${p}/1`, value: 1 });
      await Promise.all([first.waitFor(1), second.waitFor(1)]);
      expect(second.events[0]).toBe(first.events[0]);
      expect(Object.isFrozen(first.events[0])).toBe(true);
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    });

    it('delivers only visible events and survives a throwing handler', async () => {
      const p = ctx.unique('visible');
      const issued = await core.tokens.create(owner, {
        name: 'a-only',
        expiresInDays: 1,
        scopes: [`kv:read:${p}/a/*`],
      });
      const reader = await core.auth.authenticate(issued.secret);
      const collector = new Collector();
      let thrown = 0;
      const thrower = await core.events.subscribe(SYSTEM, [`kv:${p}/**`], () => {
        thrown++;
        throw new Error('handler bug');
      });
      const subscription = await core.events.subscribe(reader, [`kv:${p}/**`], collector.handler);
      await core.kv.upsert({ key: `${p}/b/1`, value: 1 });
      await core.kv.upsert({ key: `${p}/a/1`, value: 1 });
      await core.kv.upsert({ key: `${p}/b/2`, value: 1 });
      await core.kv.upsert({ key: `${p}/a/2`, value: 1 });
      await collector.waitFor(2);
      await waitUntil(() => thrown === 4, 'the throwing handler saw every event');
      expect(collector.events.map((e) => e.subject)).toEqual([`${p}/a/1`, `${p}/a/2`]);
      await Promise.all([subscription.close(), thrower.close()]);
    });

    it('ends the subscriptions of a revoked token, and of an expired one', async () => {
      const p = ctx.unique('revoke');
      const issued = await core.tokens.create(owner, { name: 'sub', expiresInDays: 1, scopes: ['kv:read'] });
      const principal = await core.auth.authenticate(issued.secret);
      const ends: SubscriptionEndReason[] = [];
      const collector = new Collector();
      await core.events.subscribe(principal, [`kv:${p}/*`], collector.handler, { onEnd: (r) => ends.push(r) });
      await core.kv.upsert({ key: `${p}/1`, value: 1 });
      await collector.waitFor(1);
      await core.tokens.revoke(owner, issued.token.id);
      await waitUntil(() => ends.length === 1, 'the subscription ended');
      expect(ends).toEqual(['token_revoked']);
      await core.kv.upsert({ key: `${p}/2`, value: 1 });
      await core.events.flush();
      expect(collector.events).toHaveLength(1);
      await expectKvError(
        core.events.subscribe(principal, ['tasks'], () => {}),
        'UNAUTHENTICATED',
      );

      const shortLived = await core.tokens.create(owner, { name: 'short', expiresInDays: 1, scopes: ['kv:read'] });
      const shortPrincipal = await core.auth.authenticate(shortLived.secret);
      const expiredEnds: SubscriptionEndReason[] = [];
      const expiring = new Collector();
      await core.events.subscribe(shortPrincipal, [`kv:${p}/*`], expiring.handler, {
        onEnd: (r) => expiredEnds.push(r),
      });
      ctx.clock.advance(24 * 3600 * 1000);
      await core.kv.upsert({ key: `${p}/3`, value: 1 });
      await waitUntil(() => expiredEnds.length === 1, 'the expired subscription ended');
      expect(expiredEnds).toEqual(['token_expired']);
      expect(expiring.events).toEqual([]);
    });

    it('answers EVENTS_EXPIRED for a replay from before the retained events, after a purge', async () => {
      const purging = await ctx.startCore({ events: { retentionMs: 60_000 } });
      const p = ctx.unique('purge');
      for (let i = 0; i < 3; i++) await purging.kv.upsert({ key: `${p}/${i}`, value: i });
      const first = await lastSeq(purging);
      ctx.clock.advance(61_000);
      await purging.kv.upsert({ key: `${p}/new`, value: 1 });
      await purging.events.flush();
      expect(await purging.events.purgeExpired()).toBe(first);
      await expectKvError(
        purging.events.subscribe(SYSTEM, [`kv:${p}/*`], () => {}, { since: 0 }),
        'EVENTS_EXPIRED',
      );
      await expectKvError(purging.events.read(SYSTEM, { topics: [`kv:${p}/*`], after: 0 }), 'EVENTS_EXPIRED');
      const kept = await purging.events.read(SYSTEM, { topics: [`kv:${p}/*`] });
      expect(kept.items.map((e) => e.subject)).toEqual([`${p}/new`]);
      const collector = new Collector();
      const replay = await purging.events.subscribe(SYSTEM, [`kv:${p}/*`], collector.handler, { since: first });
      await collector.waitFor(1);
      expect(collector.events.map((e) => e.subject)).toEqual([`${p}/new`]);
      await replay.close();
      // Everything purged: the newest event stays, so the log still knows its last seq.
      ctx.clock.advance(61_000);
      expect(await purging.events.purgeExpired()).toBe(0);
      expect(await purging.storage.events.bounds()).toEqual({ oldest: first + 1, last: first + 1 });
    });

    it('bounds the events of a chatty task handler (progress coalesced, last value wins)', async () => {
      const chatty = await ctx.startCore({ events: { progressEventIntervalMs: 250 }, tasks: { pollIntervalMs: 50 } });
      const type = ctx.unique('events.chatty');
      let elapsed = 0;
      chatty.tasks.define({
        type,
        payload: z.any(),
        async run(task) {
          const started = performance.now();
          for (let i = 1; i <= 2000; i++) {
            task.progress(i / 20, `step ${i}`);
            if (i % 10 === 0) task.log.info(`line ${i}`);
            await Promise.resolve();
          }
          elapsed = performance.now() - started;
          return null;
        },
      });
      const task = await chatty.tasks.submit(SYSTEM, { type });
      expect((await chatty.tasks.waitForFinal(task.id, 20_000)).status).toBe('completed');
      await chatty.events.flush();
      const events = (await chatty.events.read(SYSTEM, { topics: [`task:${task.id}`], limit: 1000 })).items;
      const progress = events.filter((e) => e.type === 'task.progress');
      const logs = events.filter((e) => e.type === 'task.log');
      // One write per 250 ms at most (the first at once), plus the final one at close.
      const bound = 2 + Math.ceil(elapsed / 250);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.length).toBeLessThanOrEqual(bound);
      expect(logs.length).toBeLessThanOrEqual(bound);
      expect(logs.reduce((sum, e) => sum + Number((e.data as { lineCount: number }).lineCount), 0)).toBe(200);
      expect(events.at(-1)).toMatchObject({
        type: 'task.completed',
        data: { progress: { percent: 100, message: 'step 2000' } },
      });
    });

    it('ends every subscription with shutdown when the core closes', async () => {
      const closing = await ctx.startCore();
      const ends: SubscriptionEndReason[] = [];
      await closing.events.subscribe(SYSTEM, ['tasks'], () => {}, { onEnd: (r) => ends.push(r) });
      await closing.events.subscribe(SYSTEM, ['events:**'], () => {}, { onEnd: (r) => ends.push(r) });
      await closing.close();
      expect(ends).toEqual(['shutdown', 'shutdown']);
      await expectKvError(
        closing.events.subscribe(SYSTEM, ['tasks'], () => {}),
        'UNAVAILABLE',
      );
    });
  });
}
