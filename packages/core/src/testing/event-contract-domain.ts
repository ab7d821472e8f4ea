import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Principal } from '../auth/types.js';
import type { Core } from '../index.js';
import type { JsonValue } from '../kv/types.js';
import { type EventContractContext, eventsOf, isIncreasing, lastSeq, SYSTEM } from './event-contract-context.js';
import { expectKvError } from './kv-contract-context.js';
import { tokenPrincipal } from './task-contract-context.js';

const dataOf = (event: { data: JsonValue }) => event.data as Record<string, JsonValue>;

/** Each domain change appends exactly its events, in the unit of work of the change. */
export function eventDomainContract(ctx: EventContractContext): void {
  describe('domain events', () => {
    let core: Core;
    beforeAll(async () => {
      core = await ctx.startCore({ tasks: { pollIntervalMs: 50 } });
    });

    it('appends one kv event per change, in order, with the entry, the actor and the time', async () => {
      const p = ctx.unique('kv');
      const before = await lastSeq(core);
      const actor = tokenPrincipal('tok_writer');
      await core.kv.create({ key: `${p}/a`, value: { n: 1 }, tags: ['x'], ttlSeconds: 60 }, { actor });
      await core.kv.upsert({ key: `${p}/a`, value: 2 });
      await core.kv.update(`${p}/a`, { value: 3 }, { ifVersion: 2, actor });
      await core.kv.increment(`${p}/a`, 4, { actor });
      await core.kv.delete(`${p}/a`, { actor });
      await core.kv.import([
        { key: `${p}/b`, value: 'x' },
        { key: `${p}/c`, value: null },
      ]);
      const events = await eventsOf(core, [`kv:${p}/**`], before);
      expect(events.map((e) => [e.type, e.subject, dataOf(e).version, dataOf(e).value])).toEqual([
        ['kv.set', `${p}/a`, 1, { n: 1 }],
        ['kv.set', `${p}/a`, 2, 2],
        ['kv.set', `${p}/a`, 3, 3],
        ['kv.set', `${p}/a`, 4, 7],
        ['kv.deleted', `${p}/a`, 4, undefined],
        ['kv.set', `${p}/b`, 1, 'x'],
        ['kv.set', `${p}/c`, 1, null],
      ]);
      expect(events[0]).toMatchObject({
        actor: 'tok_writer',
        at: ctx.clock.now().toISOString(),
        data: { key: `${p}/a`, tags: ['x'], expiresAt: new Date(ctx.clock.now().getTime() + 60_000).toISOString() },
      });
      expect(events.map((e) => e.actor)).toEqual([
        'tok_writer',
        'system',
        'tok_writer',
        'tok_writer',
        'tok_writer',
        'system',
        'system',
      ]);
      expect(dataOf(events[1] as never)).toEqual({ key: `${p}/a`, version: 2, tags: [], expiresAt: null, value: 2 });
      expect(isIncreasing(events.map((e) => e.seq))).toBe(true);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });

    it('appends nothing for a refused change (conflict, CAS mismatch, bad input, failed import)', async () => {
      const p = ctx.unique('kv-refused');
      await core.kv.create({ key: `${p}/a`, value: 'text' });
      const before = await lastSeq(core);
      await expectKvError(core.kv.create({ key: `${p}/a`, value: 1 }), 'ALREADY_EXISTS');
      await expectKvError(core.kv.update(`${p}/a`, { value: 1 }, { ifVersion: 9 }), 'PRECONDITION_FAILED');
      await expectKvError(core.kv.delete(`${p}/a`, { ifVersion: 9 }), 'PRECONDITION_FAILED');
      await expectKvError(core.kv.update(`${p}/missing`, { value: 1 }), 'NOT_FOUND');
      await expectKvError(core.kv.increment(`${p}/a`, 1), 'NOT_A_NUMBER');
      await expectKvError(core.kv.upsert({ key: `${p}/../x`, value: 1 }), 'VALIDATION_FAILED');
      await expectKvError(
        core.kv.import([
          { key: `${p}/ok`, value: 1 },
          { key: '', value: 2 },
        ]),
        'VALIDATION_FAILED',
      );
      expect(await eventsOf(core, [`kv:${p}/**`], before)).toEqual([]);
      expect(await lastSeq(core)).toBe(before);
    });

    it('carries values up to 8 KiB, says valueOmitted above, and reports expiry by the sweeper', async () => {
      const p = ctx.unique('kv-size');
      const before = await lastSeq(core);
      await core.kv.upsert({ key: `${p}/small`, value: 'x'.repeat(8 * 1024 - 2) });
      await core.kv.upsert({ key: `${p}/large`, value: 'x'.repeat(8 * 1024) });
      await core.kv.create({ key: `${p}/ttl`, value: 1, ttlSeconds: 1 });
      ctx.clock.advance(1000);
      expect(await core.kv.sweepExpired()).toBeGreaterThanOrEqual(1);
      const events = await eventsOf(core, [`kv:${p}/*`], before);
      expect(events.map((e) => [e.type, e.subject])).toEqual([
        ['kv.set', `${p}/small`],
        ['kv.set', `${p}/large`],
        ['kv.set', `${p}/ttl`],
        ['kv.expired', `${p}/ttl`],
      ]);
      expect(dataOf(events[0] as never).value).toHaveLength(8 * 1024 - 2);
      expect(dataOf(events[1] as never)).toMatchObject({ valueOmitted: true });
      expect(dataOf(events[1] as never).value).toBeUndefined();
      expect(dataOf(events[3] as never)).toEqual({
        key: `${p}/ttl`,
        version: 1,
        tags: [],
        expiresAt: expect.any(String),
      });
    });

    it('follows a task through its life: submitted, started, progress, stage, log, completed', async () => {
      const type = ctx.unique('events.task');
      core.tasks.define({
        type,
        payload: z.object({}).optional(),
        async run(task) {
          await task.stage('one', async () => 'done');
          task.progress(50, 'half');
          task.log.info('hello');
          return { ok: true };
        },
      });
      const submitter = tokenPrincipal('tok_submitter');
      const task = await core.tasks.submit(submitter, { type });
      expect((await core.tasks.waitForFinal(task.id, 10_000)).status).toBe('completed');
      const events = await eventsOf(core, [`task:${task.id}`]);
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('task.submitted');
      expect(types[1]).toBe('task.started');
      expect(types.at(-1)).toBe('task.completed');
      for (const middle of ['task.progress', 'task.stage', 'task.log']) expect(types).toContain(middle);
      expect(events.every((e) => e.subject === task.id && dataOf(e).type === type && dataOf(e).id === task.id)).toBe(
        true,
      );
      expect(events[0]?.actor).toBe('tok_submitter');
      expect(dataOf(events.at(-1) as never)).toMatchObject({
        status: 'completed',
        priority: 'normal',
        attempt: 1,
        progress: { percent: 50, message: 'half' },
        stage: 'one',
        error: null,
      });
      const log = events.find((e) => e.type === 'task.log');
      expect(dataOf(log as never)).toMatchObject({ lineCount: 1, lines: [{ level: 'info', message: 'hello' }] });
      // `tasks` covers every task event.
      const all = await eventsOf(core, ['tasks'], (events[0]?.seq ?? 1) - 1);
      expect(all.filter((e) => e.subject === task.id).map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    });

    it('reports a failed task, a cancelled pending task, and a manual retry', async () => {
      const type = ctx.unique('events.fail');
      core.tasks.define({
        type,
        payload: z.object({}).optional(),
        retry: { maxAttempts: 1 },
        run() {
          throw new Error('broken');
        },
      });
      const failing = await core.tasks.submit(SYSTEM, { type });
      expect((await core.tasks.waitForFinal(failing.id, 10_000)).status).toBe('failed');
      const later = await core.tasks.submit(SYSTEM, {
        type,
        runAt: new Date(ctx.clock.now().getTime() + 3_600_000).toISOString(),
      });
      await core.tasks.cancel(tokenPrincipal('tok_canceller'), later.id);
      await core.tasks.retry(tokenPrincipal('tok_retrier'), later.id);
      expect((await core.tasks.waitForFinal(later.id, 10_000)).status).toBe('failed');
      const failed = await eventsOf(core, [`task:${failing.id}`]);
      expect(failed.map((e) => e.type)).toEqual(['task.submitted', 'task.started', 'task.failed']);
      expect(dataOf(failed[2] as never)).toMatchObject({ status: 'failed', error: { message: 'broken' } });
      const cancelled = await eventsOf(core, [`task:${later.id}`]);
      expect(cancelled.map((e) => [e.type, e.actor])).toEqual([
        ['task.submitted', 'system'],
        ['task.cancelled', 'tok_canceller'],
        ['task.retrying', 'tok_retrier'],
        ['task.started', 'system'],
        ['task.failed', 'system'],
      ]);
    });

    it('announces token creation, rotation and revocation without any secret', async () => {
      const bootstrap = await core.auth.bootstrap();
      const owner: Principal = await core.auth.authenticate(bootstrap.secret as string);
      const before = await lastSeq(core);
      const issued = await core.tokens.create(owner, { name: 'ci', expiresInDays: 1, scopes: ['kv:read'] });
      const rotated = await core.tokens.rotate(owner, issued.token.id, { graceSeconds: 0 });
      await core.tokens.revoke(owner, issued.token.id);
      await core.tokens.revoke(owner, issued.token.id);
      const events = await eventsOf(core, ['tokens'], before);
      expect(events.map((e) => [e.type, e.subject])).toEqual([
        ['token.created', issued.token.id],
        ['token.rotated', issued.token.id],
        ['token.revoked', issued.token.id],
      ]);
      expect(events.every((e) => e.actor === (owner.kind === 'token' ? owner.tokenId : ''))).toBe(true);
      expect(dataOf(events[0] as never)).toMatchObject({
        name: 'ci',
        scopes: ['kv:read'],
        userId: issued.token.userId,
      });
      const text = JSON.stringify(events);
      for (const secret of [issued.secret, rotated.secret]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(-4));
      }
    });

    it('publishes custom events and refuses anything else, writing nothing', async () => {
      const before = await lastSeq(core);
      const published = await core.events.publish(tokenPrincipal('tok_bot'), {
        type: 'custom.deploy.done',
        data: { env: 'uat' },
      });
      expect(published).toMatchObject({ type: 'custom.deploy.done', subject: 'custom.deploy.done', actor: 'tok_bot' });
      expect(published.seq).toBeGreaterThan(before);
      const bad = [
        { type: 'kv.set' },
        { type: 'custom.' },
        { type: 'custom.x', extra: 1 },
        { type: 'custom.x', subject: '' },
        // Text PostgreSQL cannot store: refused on every backend, never a database error.
        { type: 'custom.x', subject: 'a\u0000b' },
        { type: 'custom.x', data: { note: 'a\u0000b' } },
        { type: 'custom.x', data: ['\ud800'] },
      ];
      for (const input of bad) await expectKvError(core.events.publish(SYSTEM, input as never), 'VALIDATION_FAILED');
      await expectKvError(
        core.events.publish(SYSTEM, { type: 'custom.big', data: 'x'.repeat(70 * 1024) }),
        'PAYLOAD_TOO_LARGE',
      );
      expect(await eventsOf(core, ['events:**'], before)).toEqual([published]);
    });

    it('numbers a burst of publishes made at once (written together), each its own event in call order', async () => {
      const before = await lastSeq(core);
      const published = await Promise.all(
        Array.from({ length: 1200 }, (_, n) => core.events.publish(SYSTEM, { type: 'custom.burst', data: { n } })),
      );
      const seqs = published.map((event) => event.seq);
      expect(seqs[0]).toBeGreaterThan(before);
      expect(seqs.every((seq, n) => n === 0 || seq > (seqs[n - 1] as number))).toBe(true);
      expect(published.map((event) => event.data)).toEqual(published.map((_, n) => ({ n })));
      expect(await eventsOf(core, ['events:custom.burst'], before)).toEqual(published);
    });

    it('refuses invalid topics, listing each', async () => {
      const error = await expectKvError(
        core.events.read(SYSTEM, { topics: ['kv:ok/*', 'nope', 'task:', 'kv:a b', 'docs:x/**'] }),
        'VALIDATION_FAILED',
      );
      expect(error.errors?.map((e) => e.path)).toEqual(['topics.1', 'topics.2', 'topics.3']);
      await expectKvError(core.events.read(SYSTEM, { topics: [] }), 'VALIDATION_FAILED');
      await expectKvError(
        core.events.subscribe(SYSTEM, ['what'], () => {}),
        'VALIDATION_FAILED',
      );
      await expectKvError(core.events.read(SYSTEM, { topics: ['tasks'], after: -1 }), 'VALIDATION_FAILED');
    });

    it('shows a principal only the events its scopes allow', async () => {
      const p = ctx.unique('scoped');
      const typeA = ctx.unique('scoped.a');
      const before = await lastSeq(core);
      await core.kv.upsert({ key: `${p}/a/1`, value: 1 });
      await core.kv.upsert({ key: `${p}/b/1`, value: 1 });
      core.tasks.define({ type: typeA, payload: z.any(), run: () => null });
      await core.tasks.submit(SYSTEM, {
        type: typeA,
        runAt: new Date(ctx.clock.now().getTime() + 3_600_000).toISOString(),
      });
      await core.events.publish(SYSTEM, { type: 'custom.hello' });
      const reader = tokenPrincipal('tok_reader', [`kv:read:${p}/a/*`]);
      const seen = await core.events.read(reader, {
        topics: [`kv:${p}/**`, 'tasks', 'events:custom.*'],
        after: before,
      });
      expect(seen.items.map((e) => [e.type, e.subject])).toEqual([
        ['kv.set', `${p}/a/1`],
        ['custom.hello', 'custom.hello'],
      ]);
      const taskReader = tokenPrincipal('tok_tasks', [`tasks:read:${typeA}`]);
      const tasksSeen = await core.events.read(taskReader, { topics: ['tasks', `kv:${p}/**`], after: before });
      expect(tasksSeen.items.map((e) => e.type)).toEqual(['task.submitted']);
      expect(tasksSeen.nextAfter).toBeGreaterThanOrEqual(seen.items.at(-1)?.seq ?? 0);
    });
  });
}
