/**
 * `/api/tasks` end to end, in process, on every backend: submit → wait → result, the
 * synchronous `Prefer: wait`, idempotency, cancel, retry, logs, stages, schedules and their
 * runs, task types, narrowed scopes and `GET /api`'s queue depths.
 */
import { ECHO_TASK_TYPE, NonRetryableError, SYSTEM_PRINCIPAL } from '@proserver/core';
import { Latch, testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectProblem } from './support/harness.js';
import { createTasksHarness, submitOk, type TasksHarness } from './support/tasks-harness.js';

const MINUTE = 60_000;

describe.each(testBackendNames())('tasks over HTTP on %s', (backend) => {
  let h: TasksHarness;
  /** Handlers of `test.blocking` wait on this latch (or on their abort signal). */
  const release = new Latch();
  let started = new Latch<string>();
  let flakyCalls = 0;

  beforeAll(async () => {
    h = await createTasksHarness(backend);
    h.core.tasks.define({
      type: 'test.logging',
      description: 'Writes three log lines and returns their count.',
      payload: z.object({ lines: z.array(z.string()).max(10) }),
      priority: 'critical',
      async run(ctx) {
        for (const line of ctx.payload.lines) ctx.log.info(line, { taskId: ctx.taskId });
        return { count: ctx.payload.lines.length };
      },
    });
    h.core.tasks.define({
      type: 'test.blocking',
      payload: z.object({}).optional(),
      async run(ctx) {
        started.resolve(ctx.taskId);
        await new Promise<void>((resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
          void release.promise.then(resolve);
        });
        return 'released';
      },
    });
    h.core.tasks.define({
      type: 'test.flaky',
      payload: z.object({}).optional(),
      retry: { maxAttempts: 1 },
      run() {
        flakyCalls++;
        if (flakyCalls === 1) throw new NonRetryableError('first call fails', 'FLAKY');
        return { calls: flakyCalls };
      },
    });
  });
  afterAll(() => h.close());

  const getJson = async (path: string, token?: string) => {
    const res = await h.call('GET', path, token === undefined ? {} : { token });
    const text = await res.text();
    expect({ path, status: res.status, text }).toMatchObject({ status: 200 });
    return JSON.parse(text);
  };

  it('submit → 202 with links and Location; wait; status, result and the task read back', async () => {
    const res = await h.call('POST', '/api/tasks', {
      json: { type: ECHO_TASK_TYPE, payload: { value: { hello: 'world' }, progressSteps: 3 }, tags: ['ci'] },
    });
    expect(res.status).toBe(202);
    const task = await res.json();
    const self = `/api/tasks/${task.id}`;
    expect(task).toMatchObject({ type: ECHO_TASK_TYPE, priority: 'normal', tags: ['ci'], parentId: null });
    expect(task.id).toMatch(/^task_/);
    expect(['pending', 'running', 'completed']).toContain(task.status);
    expect(task.links).toEqual({
      self,
      status: `${self}/status`,
      result: `${self}/result`,
      logs: `${self}/logs`,
      cancel: self,
    });
    expect(res.headers.get('location')).toBe(self);

    const final = await h.core.tasks.waitForFinal(task.id, 10_000);
    expect(final.status).toBe('completed');
    expect(await getJson(self)).toMatchObject({ id: task.id, status: 'completed', attempt: 1, links: task.links });
    const status = await getJson(`${self}/status`);
    expect(status).toMatchObject({ status: 'completed', attempt: 1, progress: { percent: 100 }, error: null });
    expect(status.stages.map((stage: { name: string; status: string }) => [stage.name, stage.status])).toEqual([
      ['step-1', 'completed'],
      ['step-2', 'completed'],
      ['step-3', 'completed'],
    ]);
    expect(await getJson(`${self}/result`)).toMatchObject({
      status: 'completed',
      result: { value: { hello: 'world' } },
      error: null,
    });
  });

  it('Prefer: wait=5 answers 200 with the final task when it is quick, 202 when it is not', async () => {
    const quick = await h.call('POST', '/api/tasks', {
      json: { type: ECHO_TASK_TYPE, payload: { value: 1, delayMs: 20 } },
      headers: { Prefer: 'wait=5' },
    });
    expect(quick.status).toBe(200);
    expect(quick.headers.get('preference-applied')).toBe('wait=5');
    expect(await quick.json()).toMatchObject({ status: 'completed', links: { self: expect.any(String) } });

    const slow = await h.call('POST', '/api/tasks', {
      json: { type: 'test.blocking' },
      headers: { Prefer: 'respond-async, wait=0' },
    });
    expect(slow.status).toBe(202);
    expect(slow.headers.get('preference-applied')).toBeNull();
    const pending = await slow.json();
    expect(['pending', 'running']).toContain(pending.status);
    await h.call('DELETE', `/api/tasks/${pending.id}`);
    expect((await h.core.tasks.waitForFinal(pending.id, 10_000)).status).toBe('cancelled');
  });

  it('Idempotency-Key: a retry returns the original task; another key makes another task', async () => {
    const body = { type: ECHO_TASK_TYPE, payload: { value: 'once' }, tags: ['idem'] };
    const first = await submitOk(h, body, { headers: { 'Idempotency-Key': 'build 42 / deploy' } });
    const again = await submitOk(h, body, { headers: { 'Idempotency-Key': 'build 42 / deploy' } });
    expect(again.id).toBe(first.id);
    const other = await submitOk(h, body, { headers: { 'Idempotency-Key': 'build 43' } });
    expect(other.id).not.toBe(first.id);
    const listed = await getJson('/api/tasks?tag=idem');
    expect(listed.items.map((t: { id: string }) => t.id).sort()).toEqual([first.id, other.id].sort());
  });

  it('cancel: pending at once, running once the handler stops, final → 409, unknown → 404', async () => {
    const later = await submitOk(h, {
      type: ECHO_TASK_TYPE,
      runAt: new Date(h.clock.now().getTime() + MINUTE).toISOString(),
    });
    const cancelled = await h.call('DELETE', `/api/tasks/${later.id}`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: later.id, status: 'cancelled', links: later.links });

    started = new Latch<string>();
    const running = await submitOk(h, { type: 'test.blocking' });
    expect(await started.promise).toBe(running.id);
    const asked = await h.call('DELETE', `/api/tasks/${running.id}`);
    expect(asked.status).toBe(200);
    expect(['running', 'cancelled']).toContain((await asked.json()).status);
    expect((await h.core.tasks.waitForFinal(running.id, 10_000)).status).toBe('cancelled');

    for (const id of [later.id, running.id]) {
      const problem = await expectProblem(await h.call('DELETE', `/api/tasks/${id}`), 409, 'TASK_NOT_CANCELLABLE');
      expect(problem.detail).toContain('cancelled');
    }
    await expectProblem(await h.call('DELETE', '/api/tasks/task_nope'), 404, 'NOT_FOUND');
  });

  it('retry: a failed task runs again (202), a completed one is a 409 CONFLICT', async () => {
    const failing = await submitOk(h, { type: 'test.flaky' });
    const failed = await h.core.tasks.waitForFinal(failing.id, 10_000);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'FLAKY', retryable: false } });

    const res = await h.call('POST', `/api/tasks/${failing.id}/retry`);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/tasks/${failing.id}`);
    expect((await res.json()).status).toMatch(/pending|running|completed/);
    expect(await h.core.tasks.waitForFinal(failing.id, 10_000)).toMatchObject({ status: 'completed', error: null });
    expect((await getJson(`/api/tasks/${failing.id}/result`)).result).toEqual({ calls: 2 });

    await expectProblem(await h.call('POST', `/api/tasks/${failing.id}/retry`), 409, 'CONFLICT');
    await expectProblem(await h.call('POST', '/api/tasks/task_nope/retry'), 404, 'NOT_FOUND');
  });

  it('logs: ordered lines, read on with ?after= and ?limit=', async () => {
    const task = await submitOk(h, { type: 'test.logging', payload: { lines: ['one', 'two', 'three'] } });
    expect(task.priority).toBe('critical');
    await h.core.tasks.waitForFinal(task.id, 10_000);
    const all = await getJson(`/api/tasks/${task.id}/logs`);
    expect(all.items.map((line: { message: string }) => line.message)).toEqual(['one', 'two', 'three']);
    expect(all.items[0]).toMatchObject({ seq: 1, level: 'info', fields: { taskId: task.id } });
    expect(all.nextAfter).toBe(3);
    const page = await getJson(`/api/tasks/${task.id}/logs?after=1&limit=1`);
    expect(page).toMatchObject({ items: [{ seq: 2, message: 'two' }], nextAfter: 2 });
    expect(await getJson(`/api/tasks/${task.id}/logs?after=3`)).toEqual({ items: [], nextAfter: null });
  });

  it('list: filters and cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await submitOk(h, { type: ECHO_TASK_TYPE, tags: ['paged'], priority: 'batch' })).id);
    const first = await getJson('/api/tasks?tag=paged&limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await getJson(`/api/tasks?tag=paged&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`);
    expect(second.nextCursor).toBeNull();
    const seen = [...first.items, ...second.items].map((t: { id: string }) => t.id);
    expect(seen.sort()).toEqual(ids.sort());
    expect((await getJson('/api/tasks?tag=paged&priority=critical')).items).toEqual([]);
    expect((await getJson(`/api/tasks?type=${ECHO_TASK_TYPE}&tag=paged&limit=1000`)).items).toHaveLength(3);
  });

  it('a recurring task spawns runs (GET …/runs) until stop-recurring', async () => {
    const schedule = await submitOk(h, {
      type: 'test.logging',
      payload: { lines: ['tick'] },
      recurrence: { everySeconds: 60 },
      tags: ['every-minute'],
    });
    expect(schedule).toMatchObject({ status: 'pending', recurrence: { everySeconds: 60 }, runCount: 0 });
    expect(schedule.links.runs).toBe(`/api/tasks/${schedule.id}/runs`);

    expect(await h.core.tasks.maintenance.spawnDueOccurrences()).toBe(1);
    h.clock.advance(MINUTE);
    expect(await h.core.tasks.maintenance.spawnDueOccurrences()).toBe(1);
    const runs = await getJson(`/api/tasks/${schedule.id}/runs`);
    expect(runs.items).toHaveLength(2);
    for (const run of runs.items) expect(run).toMatchObject({ parentId: schedule.id, recurrence: null });
    const onePage = await getJson(`/api/tasks/${schedule.id}/runs?limit=1`);
    expect(onePage.items).toHaveLength(1);
    expect(onePage.nextCursor).toEqual(expect.any(String));
    expect((await getJson(`/api/tasks?parentId=${schedule.id}`)).items).toHaveLength(2);

    const stopped = await h.call('POST', `/api/tasks/${schedule.id}/stop-recurring`);
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toMatchObject({ id: schedule.id, status: 'cancelled', runCount: 2 });
    h.clock.advance(MINUTE);
    expect(await h.core.tasks.maintenance.spawnDueOccurrences()).toBe(0);
    expect((await getJson(`/api/tasks/${schedule.id}/runs`)).items).toHaveLength(2);

    const oneOff = await submitOk(h, { type: ECHO_TASK_TYPE });
    await expectProblem(await h.call('POST', `/api/tasks/${oneOff.id}/stop-recurring`), 409, 'CONFLICT');
  });

  it('GET /api/task-types lists every type with its payload JSON Schema', async () => {
    const { items } = await getJson('/api/task-types');
    const echo = items.find((t: { type: string }) => t.type === ECHO_TASK_TYPE);
    expect(echo).toMatchObject({
      priority: 'normal',
      timeoutMs: 15 * MINUTE,
      retry: { maxAttempts: 11 },
      payloadSchema: { type: 'object', properties: { delayMs: { type: 'integer' } } },
    });
    expect(Object.keys(echo.payloadSchema.properties).sort()).toEqual([
      'delayMs',
      'failTimes',
      'progressSteps',
      'value',
    ]);
    const logging = items.find((t: { type: string }) => t.type === 'test.logging');
    expect(logging).toMatchObject({
      description: 'Writes three log lines and returns their count.',
      priority: 'critical',
      payloadSchema: { type: 'object', required: ['lines'] },
    });
  });

  it('scopes narrowed by type: tasks:write:diagnostics.* submits echo only; tasks:read cannot submit', async () => {
    const echoWriter = await h.tokenWith(['tasks:write:diagnostics.*', 'tasks:read:diagnostics.*']);
    const task = await submitOk(h, { type: ECHO_TASK_TYPE, tags: ['scoped'] }, { token: echoWriter });
    expect((await getJson(`/api/tasks/${task.id}`, echoWriter)).id).toBe(task.id);
    const before = (await h.allTasks()).length;

    const other = await h.call('POST', '/api/tasks', {
      json: { type: 'test.logging', payload: { lines: [] } },
      token: echoWriter,
    });
    expect((await expectProblem(other, 403, 'FORBIDDEN')).detail).toContain('tasks:write:test.logging');
    const reader = await h.tokenWith(['tasks:read']);
    const denied = await h.call('POST', '/api/tasks', { json: { type: ECHO_TASK_TYPE }, token: reader });
    expect((await expectProblem(denied, 403, 'FORBIDDEN')).detail).toContain('tasks:write');
    await expectProblem(await h.call('DELETE', `/api/tasks/${task.id}`, { token: reader }), 403, 'FORBIDDEN');
    expect((await h.allTasks()).length).toBe(before);

    // Reading: a narrowed reader sees its types only, in lists, reads and task types alike.
    const logging = await submitOk(h, { type: 'test.logging', payload: { lines: [] }, tags: ['scoped'] });
    await expectProblem(await h.call('GET', `/api/tasks/${logging.id}`, { token: echoWriter }), 403, 'FORBIDDEN');
    const visible = await getJson('/api/tasks?tag=scoped', echoWriter);
    expect(visible.items.map((t: { id: string }) => t.id)).toEqual([task.id]);
    const types = await getJson('/api/task-types', echoWriter);
    expect(types.items.map((t: { type: string }) => t.type)).toEqual([ECHO_TASK_TYPE]);
    const kvOnly = await h.tokenWith(['kv:read']);
    await expectProblem(await h.call('GET', '/api/task-types', { token: kvOnly }), 403, 'FORBIDDEN');
    await expectProblem(await h.call('GET', '/api/tasks', { token: kvOnly }), 403, 'FORBIDDEN');
  });

  it("GET /api reports pending tasks per priority and this process's workers", async () => {
    const before = await getJson('/api');
    expect(before.queues).toEqual({
      critical: expect.any(Number),
      normal: expect.any(Number),
      batch: expect.any(Number),
    });
    expect(before.workers).toMatchObject({ id: h.core.tasks.workerId, running: expect.any(Number), slots: null });
    const runAt = new Date(h.clock.now().getTime() + 10 * MINUTE).toISOString();
    const waiting = await submitOk(h, { type: ECHO_TASK_TYPE, priority: 'critical', runAt });
    const after = await getJson('/api');
    expect(after.queues.critical).toBe(before.queues.critical + 1);
    await h.core.tasks.cancel(SYSTEM_PRINCIPAL, waiting.id);
  });

  it('unknown methods → 405 with Allow', async () => {
    const res = await h.call('PUT', '/api/tasks', { json: {} });
    await expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    const retry = await h.call('GET', '/api/tasks/task_x/retry');
    expect(retry.headers.get('allow')).toBe('POST');
    await expectProblem(retry, 405, 'METHOD_NOT_ALLOWED');
    await expectProblem(await h.call('PATCH', '/api/task-types'), 405, 'METHOD_NOT_ALLOWED');
  });
});
