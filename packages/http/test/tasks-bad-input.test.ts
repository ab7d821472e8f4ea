/**
 * Every bad task request gets a clear 4xx problem (never a 5xx) and writes nothing: the
 * core's task list is read back after each group and must stay empty.
 */
import { ECHO_TASK_TYPE } from '@proserver/core';
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectProblem } from './support/harness.js';
import { createTasksHarness, type TasksHarness } from './support/tasks-harness.js';

const SUBMIT_BYTES = 64 * 1024;

describe.each(testBackendNames())('tasks bad input on %s', (backend) => {
  let h: TasksHarness;
  beforeAll(async () => {
    // The body limit is above the task payload limit, so both 413s can be seen.
    h = await createTasksHarness(backend, {
      app: { maxBodyBytes: 4 * SUBMIT_BYTES },
      tasks: { maxPayloadBytes: SUBMIT_BYTES },
    });
    h.core.tasks.define({ type: 'test.other', payload: z.object({ n: z.number() }), run: () => null });
  });
  afterEach(async () => {
    expect(await h.allTasks()).toEqual([]);
  });
  afterAll(() => h.close());

  const submit = (json: unknown, headers: Record<string, string> = {}, token?: string) =>
    h.call('POST', '/api/tasks', { json, headers, ...(token ? { token } : {}) });

  it('bad fields → 400 VALIDATION_FAILED naming the field', async () => {
    const soon = '2026-03-01T12:05:00Z';
    const cases: [unknown, string][] = [
      [{ type: 'no.such.type' }, 'type'],
      [{ type: 'not a type!' }, 'type'],
      [{ type: 42 }, 'type'],
      [{}, 'type'],
      [{ type: ECHO_TASK_TYPE, priority: 'urgent' }, 'priority'],
      [{ type: ECHO_TASK_TYPE, runAt: 'tomorrow' }, 'runAt'],
      [{ type: ECHO_TASK_TYPE, runAt: '2026-03-01T12:05:00' }, 'runAt'],
      [{ type: ECHO_TASK_TYPE, timeoutMs: -1 }, 'timeoutMs'],
      [{ type: ECHO_TASK_TYPE, timeoutMs: 0 }, 'timeoutMs'],
      [{ type: ECHO_TASK_TYPE, timeoutMs: 1.5 }, 'timeoutMs'],
      [{ type: ECHO_TASK_TYPE, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ type: ECHO_TASK_TYPE, retry: { initialDelayMs: -5 } }, 'retry.initialDelayMs'],
      [{ type: ECHO_TASK_TYPE, retry: { initialDelayMs: 5000, maxDelayMs: 10 } }, 'retry.maxDelayMs'],
      [{ type: ECHO_TASK_TYPE, recurrence: { cron: 'every day at noon' } }, 'recurrence.cron'],
      [{ type: ECHO_TASK_TYPE, recurrence: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } }, 'recurrence.timezone'],
      [{ type: ECHO_TASK_TYPE, recurrence: { everySeconds: 0 } }, 'recurrence.everySeconds'],
      [{ type: ECHO_TASK_TYPE, recurrence: { everySeconds: 60, cron: '* * * * *' } }, 'recurrence'],
      [
        { type: ECHO_TASK_TYPE, runAt: soon, recurrence: { everySeconds: 60, until: '2026-03-01T12:00:00Z' } },
        'recurrence.until',
      ],
      [{ type: ECHO_TASK_TYPE, concurrencyKey: 'has spaces' }, 'concurrencyKey'],
      [{ type: ECHO_TASK_TYPE, tags: 'ci' }, 'tags'],
      [{ type: ECHO_TASK_TYPE, idempotencyKey: 'in-the-body' }, ''],
      [{ type: ECHO_TASK_TYPE, extra: true }, ''],
      [[{ type: ECHO_TASK_TYPE }], ''],
    ];
    for (const [json, path] of cases) {
      const body = await expectProblem(await submit(json), 400, 'VALIDATION_FAILED');
      const paths = body.errors?.map((e) => e.path) ?? [];
      // The field itself or a part of it (a union reports the member field it tried).
      const named = paths.some((p) => p === path || (path !== '' && p.startsWith(`${path}.`)));
      expect({ json, paths, named }).toMatchObject({ named: true });
    }
  });

  it('a payload failing its type schema → 422 INVALID_PAYLOAD with field errors', async () => {
    const cases: [unknown, string][] = [
      [{ type: ECHO_TASK_TYPE, payload: { delayMs: -1 } }, 'payload.delayMs'],
      [{ type: ECHO_TASK_TYPE, payload: { failTimes: 'twice' } }, 'payload.failTimes'],
      [{ type: ECHO_TASK_TYPE, payload: { unknown: 1 } }, 'payload'],
      [{ type: ECHO_TASK_TYPE, payload: 'a string' }, 'payload'],
      [{ type: 'test.other' }, 'payload'],
      [{ type: 'test.other', payload: { n: 'one' } }, 'payload.n'],
    ];
    for (const [json, path] of cases) {
      const body = await expectProblem(await submit(json), 422, 'INVALID_PAYLOAD');
      expect({ json, paths: body.errors?.map((e) => e.path) }).toMatchObject({ paths: expect.arrayContaining([path]) });
    }
  });

  it('oversized → 413: a payload past the task limit, a body past the request limit', async () => {
    const payload = { value: 'x'.repeat(SUBMIT_BYTES) };
    const big = await expectProblem(await submit({ type: ECHO_TASK_TYPE, payload }), 413, 'PAYLOAD_TOO_LARGE');
    expect(big.detail).toContain(String(SUBMIT_BYTES));
    const huge = { type: ECHO_TASK_TYPE, payload: { value: 'x'.repeat(5 * SUBMIT_BYTES) } };
    await expectProblem(await submit(huge), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('malformed JSON → 400, another media type → 415', async () => {
    for (const body of ['{"type":', '', 'null null']) {
      const res = await h.call('POST', '/api/tasks', { body, headers: { 'Content-Type': 'application/json' } });
      await expectProblem(res, 400, 'MALFORMED_JSON');
    }
    const text = await h.call('POST', '/api/tasks', {
      body: JSON.stringify({ type: ECHO_TASK_TYPE }),
      headers: { 'Content-Type': 'text/plain' },
    });
    await expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('bad Prefer: wait and Idempotency-Key headers → 400 before anything is written', async () => {
    const valid = { type: ECHO_TASK_TYPE };
    for (const prefer of ['wait=61', 'wait=-1', 'wait=1.5', 'wait=abc', 'wait', 'wait=5, wait=6', 'wait=100']) {
      const body = await expectProblem(await submit(valid, { Prefer: prefer }), 400, 'VALIDATION_FAILED');
      expect(body.errors?.[0]?.path).toBe('Prefer');
    }
    for (const key of ['', 'k'.repeat(201), 'caf\u00e9', 'bell\u0007']) {
      const body = await expectProblem(await submit(valid, { 'Idempotency-Key': key }), 400, 'VALIDATION_FAILED');
      expect(body.errors?.[0]?.path).toBe('Idempotency-Key');
    }
  });

  it('missing scopes → 403 naming the scope', async () => {
    const reader = await h.tokenWith(['tasks:read']);
    expect(
      (await expectProblem(await submit({ type: ECHO_TASK_TYPE }, {}, reader), 403, 'FORBIDDEN')).detail,
    ).toContain('tasks:write');
    const narrowed = await h.tokenWith(['tasks:write:diagnostics.*']);
    const other = await expectProblem(
      await submit({ type: 'test.other', payload: { n: 1 } }, {}, narrowed),
      403,
      'FORBIDDEN',
    );
    expect(other.detail).toContain('tasks:write:test.other');
    await expectProblem(await submit({ type: ECHO_TASK_TYPE }, {}, 'prs_not_a_token'), 401, 'UNAUTHENTICATED');
  });

  it('bad query strings and ids → 400 / 404', async () => {
    const queries = [
      'status=done',
      'priority=urgent',
      'limit=0',
      'limit=1001',
      'limit=ten',
      'cursor=not-a-cursor',
      'sort=createdAt',
      'status=failed&status=completed',
      'submitter=a%00b',
      'parentId=a%00b',
    ];
    for (const query of queries) {
      await expectProblem(await h.call('GET', `/api/tasks?${query}`), 400, 'VALIDATION_FAILED');
    }
    await expectProblem(await h.call('GET', '/api/tasks/task_x/logs?after=-1'), 400, 'VALIDATION_FAILED');
    await expectProblem(await h.call('GET', '/api/tasks/task_x/runs?limit=0'), 400, 'VALIDATION_FAILED');
    await expectProblem(await h.call('GET', '/api/task-types?x=1'), 400, 'VALIDATION_FAILED');
    for (const path of ['/api/tasks/task_nope', '/api/tasks/task_nope/status', '/api/tasks/task_nope/result']) {
      await expectProblem(await h.call('GET', path), 404, 'NOT_FOUND');
    }
    await expectProblem(await h.call('GET', `/api/tasks/${'x'.repeat(500)}/logs`), 404, 'NOT_FOUND');
    // An id PostgreSQL could not even compare (U+0000) is simply not found, on every backend.
    for (const path of ['/api/tasks/a%00b', '/api/tasks/a%00b/logs', '/api/tasks/a%00b/cancel']) {
      const method = path.endsWith('cancel') ? 'POST' : 'GET';
      await expectProblem(await h.call(method, path, method === 'POST' ? {} : undefined), 404, 'NOT_FOUND');
    }
    await expectProblem(await h.call('GET', '/api/tasks/task_nope/runs'), 404, 'NOT_FOUND');
    await expectProblem(await h.call('POST', '/api/tasks/task_nope/stop-recurring'), 404, 'NOT_FOUND');
    await expectProblem(await h.call('GET', '/api/tasks/task_nope/unknown'), 404, 'NOT_FOUND');
  });

  it('actions refuse a body other than {}', async () => {
    const res = await h.call('POST', '/api/tasks/task_nope/retry', { json: { force: true } });
    await expectProblem(res, 400, 'VALIDATION_FAILED');
    const empty = await h.call('POST', '/api/tasks/task_nope/retry', { json: {} });
    await expectProblem(empty, 404, 'NOT_FOUND');
  });
});
