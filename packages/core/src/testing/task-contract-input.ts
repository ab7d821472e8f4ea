import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { ErrorCode } from '../errors.js';
import type { SubmitTaskInput } from '../tasks/types.js';
import { expectTaskError, type TaskContractContext, tokenPrincipal } from './task-contract-context.js';

const SYSTEM = SYSTEM_PRINCIPAL;
const empty = z.object({}).optional();

/**
 * Every bad submission gets a clear error naming the field, and writes nothing; a token only
 * submits, reads and lists the task types its scopes name.
 */
export function describeTaskInput(ctx: TaskContractContext): void {
  describe('bad input', () => {
    const cases: [string, (type: string) => unknown, ErrorCode, string][] = [
      ['an unknown type', () => ({ type: 'no.such.type' }), 'VALIDATION_FAILED', 'type'],
      ['a malformed type', () => ({ type: '../etc' }), 'VALIDATION_FAILED', 'type'],
      [
        'a payload failing its schema',
        (type) => ({ type, payload: { count: 'three' } }),
        'INVALID_PAYLOAD',
        'payload.count',
      ],
      ['a payload missing a field', (type) => ({ type, payload: {} }), 'INVALID_PAYLOAD', 'payload.count'],
      [
        'an invalid cron',
        (type) => ({ type, payload: { count: 1 }, recurrence: { cron: '61 * * * *' } }),
        'VALIDATION_FAILED',
        'recurrence.cron',
      ],
      [
        'an unknown time zone',
        (type) => ({ type, payload: { count: 1 }, recurrence: { cron: '0 9 * * *', timezone: 'Mars/Base' } }),
        'VALIDATION_FAILED',
        'recurrence.timezone',
      ],
      [
        'a recurrence with both cron and interval',
        (type) => ({ type, payload: { count: 1 }, recurrence: { cron: '* * * * *', everySeconds: 5 } }),
        'VALIDATION_FAILED',
        'recurrence.everySeconds',
      ],
      [
        'until before the first occurrence',
        (type) => ({ type, payload: { count: 1 }, recurrence: { everySeconds: 60, until: '2000-01-01T00:00:00Z' } }),
        'VALIDATION_FAILED',
        'recurrence.until',
      ],
      [
        'runAt in a nonsense format',
        (type) => ({ type, payload: { count: 1 }, runAt: 'tomorrow' }),
        'VALIDATION_FAILED',
        'runAt',
      ],
      [
        'runAt without a zone',
        (type) => ({ type, payload: { count: 1 }, runAt: '2026-01-01T10:00:00' }),
        'VALIDATION_FAILED',
        'runAt',
      ],
      [
        'a negative timeout',
        (type) => ({ type, payload: { count: 1 }, timeoutMs: -5 }),
        'VALIDATION_FAILED',
        'timeoutMs',
      ],
      [
        'an absurd timeout',
        (type) => ({ type, payload: { count: 1 }, timeoutMs: 90 * 24 * 3600 * 1000 }),
        'VALIDATION_FAILED',
        'timeoutMs',
      ],
      [
        'zero attempts',
        (type) => ({ type, payload: { count: 1 }, retry: { maxAttempts: 0 } }),
        'VALIDATION_FAILED',
        'retry.maxAttempts',
      ],
      [
        'a maxDelayMs below initialDelayMs',
        (type) => ({ type, payload: { count: 1 }, retry: { initialDelayMs: 500, maxDelayMs: 100 } }),
        'VALIDATION_FAILED',
        'retry.maxDelayMs',
      ],
      [
        'an unknown priority',
        (type) => ({ type, payload: { count: 1 }, priority: 'urgent' }),
        'VALIDATION_FAILED',
        'priority',
      ],
      [
        'a bad concurrencyKey',
        (type) => ({ type, payload: { count: 1 }, concurrencyKey: 'has space' }),
        'VALIDATION_FAILED',
        'concurrencyKey',
      ],
      ['duplicate tags', (type) => ({ type, payload: { count: 1 }, tags: ['a', 'a'] }), 'VALIDATION_FAILED', 'tags.1'],
      [
        'an idempotency key PostgreSQL cannot store (U+0000)',
        (type) => ({ type, payload: { count: 1 }, idempotencyKey: 'a\u0000b' }),
        'VALIDATION_FAILED',
        'idempotencyKey',
      ],
      ['an unknown field', (type) => ({ type, payload: { count: 1 }, colour: 'red' }), 'VALIDATION_FAILED', ''],
      [
        'an oversized payload',
        (type) => ({ type, payload: { count: 1, blob: 'x'.repeat(300 * 1024) } }),
        'PAYLOAD_TOO_LARGE',
        '',
      ],
    ];

    for (const [what, input, code, path] of cases) {
      it(`refuses ${what} (${code}) and writes nothing`, async () => {
        const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
        const type = ctx.uniqueType('strict');
        core.tasks.define({
          type,
          payload: z.object({ count: z.number(), blob: z.string().optional() }),
          run: () => null,
        });
        const newest = (await core.tasks.list(SYSTEM, { limit: 1 })).items[0]?.id ?? null;
        const depths = await core.tasks.queueDepths();
        const error = await expectTaskError(core.tasks.submit(SYSTEM, input(type) as SubmitTaskInput), code);
        if (code !== 'PAYLOAD_TOO_LARGE') expect(error.errors?.map((e) => e.path)).toContain(path);
        expect((await core.tasks.list(SYSTEM, { limit: 1 })).items[0]?.id ?? null).toBe(newest);
        expect(await core.tasks.queueDepths()).toEqual(depths);
      });
    }

    it('refuses a whole batch when one item is bad, naming its index', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const type = ctx.uniqueType('batch');
      core.tasks.define({ type, payload: z.object({ count: z.number() }), run: () => null });
      const newest = (await core.tasks.list(SYSTEM, { limit: 1 })).items[0]?.id ?? null;
      const error = await expectTaskError(
        core.tasks.submitMany(SYSTEM, [
          { type, payload: { count: 1 } },
          { type, payload: { count: 'x' } },
        ]),
        'INVALID_PAYLOAD',
      );
      expect(error.errors?.[0]?.path).toBe('1.payload.count');
      expect((await core.tasks.list(SYSTEM, { limit: 1 })).items[0]?.id ?? null).toBe(newest);
      await expectTaskError(core.tasks.submitMany(SYSTEM, []), 'VALIDATION_FAILED');
    });

    it('refuses bad list and log options', async () => {
      const core = await ctx.startCore();
      await expectTaskError(core.tasks.list(SYSTEM, { status: 'done' as never }), 'VALIDATION_FAILED');
      await expectTaskError(core.tasks.list(SYSTEM, { limit: 5000 }), 'VALIDATION_FAILED');
      await expectTaskError(core.tasks.list(SYSTEM, { submitter: 'a\u0000b' }), 'VALIDATION_FAILED');
      // No task can have such an id: not found, without asking the database.
      await expectTaskError(core.tasks.get(SYSTEM, 'task_\u0000'), 'NOT_FOUND');
      const task = await core.tasks.submit(SYSTEM, { type: 'diagnostics.echo' });
      await expectTaskError(core.tasks.logs(SYSTEM, task.id, { after: -1 }), 'VALIDATION_FAILED');
      await core.tasks.waitForFinal(task.id, 10_000);
    });

    it('refuses bad type definitions', async () => {
      const core = await ctx.startCore();
      const type = ctx.uniqueType('defined');
      core.tasks.define({ type, payload: z.object({}), run: () => null });
      await expectTaskError(
        Promise.resolve().then(() => core.tasks.define({ type, payload: z.object({}), run: () => null })),
        'ALREADY_EXISTS',
      );
      await expectTaskError(
        Promise.resolve().then(() => core.tasks.define({ type: 'Bad Name', payload: z.object({}), run: () => null })),
        'VALIDATION_FAILED',
      );
      await expectTaskError(
        Promise.resolve().then(() =>
          core.tasks.define({ type: ctx.uniqueType('t'), payload: z.object({}), timeoutMs: -1, run: () => null }),
        ),
        'VALIDATION_FAILED',
      );
    });
  });

  describe('scopes', () => {
    it('narrows submit, read and list to the task types a token may use', async () => {
      const core = await ctx.startCore({ tasks: { workers: { critical: 0, normal: 0, batch: 0 } } });
      const allowed = ctx.uniqueType('allowed');
      const other = ctx.uniqueType('other');
      for (const type of [allowed, other]) core.tasks.define({ type, payload: empty, run: () => null });
      const narrow = tokenPrincipal('tok_narrow', [`tasks:write:${allowed}`, `tasks:read:${allowed}`]);
      const mine = await core.tasks.submit(narrow, { type: allowed });
      expect(mine.submitter).toBe('tok_narrow');
      const newest = (await core.tasks.list(SYSTEM, { limit: 1 })).items[0]?.id;
      const denied = await expectTaskError(core.tasks.submit(narrow, { type: other }), 'FORBIDDEN');
      expect(denied.details).toEqual({ scope: `tasks:write:${other}` });
      expect((await core.tasks.list(SYSTEM, { limit: 1 })).items[0]?.id).toBe(newest);
      const theirs = await core.tasks.submit(SYSTEM, { type: other });
      await expectTaskError(core.tasks.get(narrow, theirs.id), 'FORBIDDEN');
      await expectTaskError(core.tasks.cancel(narrow, theirs.id), 'FORBIDDEN');
      const listed = await core.tasks.list(narrow, { limit: 1000 });
      expect(listed.items.every((t) => t.type === allowed)).toBe(true);
      expect(listed.items.map((t) => t.id)).toContain(mine.id);
      const none = tokenPrincipal('tok_none', ['kv:read']);
      await expectTaskError(core.tasks.list(none), 'FORBIDDEN');
      await expectTaskError(core.tasks.get(none, mine.id), 'FORBIDDEN');
      await core.tasks.cancel(SYSTEM, mine.id);
      await core.tasks.cancel(SYSTEM, theirs.id);
    });
  });
}
