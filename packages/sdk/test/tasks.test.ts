/**
 * `client.tasks` against the real app: in process on every backend, and once over a
 * listening server with the global fetch.
 */
import { type Core, createCore, ECHO_TASK_TYPE } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { Latch, testBackendNames } from '@proserver/core/testing';
import { startServer } from '@proserver/http';
import {
  createClient,
  isApiError,
  type Page,
  type ProServerClient,
  type Task,
  type TaskStatusView,
  type TaskWithLinks,
} from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type InProcessServer, startInProcess } from './support/in-process.js';

/** An echo that reports three stages, 30 ms apart. */
const STAGED_ECHO = { type: ECHO_TASK_TYPE, payload: { value: 'staged', delayMs: 90, progressSteps: 3 } };

/** Submits the staged echo and waits for it, collecting every progress report. */
async function submitAndWatch(client: ProServerClient): Promise<{ final: TaskWithLinks; seen: TaskStatusView[] }> {
  const submitted = await client.tasks.submit(STAGED_ECHO, { idempotencyKey: `watch-${Math.random()}` });
  const seen: TaskStatusView[] = [];
  const final = await client.tasks.wait(submitted.id, { pollIntervalMs: 10, onProgress: (s) => seen.push(s) });
  return { final, seen };
}

function expectStagedProgress(final: Task, seen: TaskStatusView[]): void {
  expect(final).toMatchObject({ status: 'completed', type: ECHO_TASK_TYPE, progress: { percent: 100 } });
  // Each report differs from the one before it, and the last one is the final state.
  expect(seen.length).toBeGreaterThanOrEqual(2);
  const keys = seen.map((s) => JSON.stringify([s.status, s.progress, s.stage]));
  expect(new Set(keys).size).toBe(keys.length);
  expect(seen.at(-1)).toMatchObject({ status: 'completed', progress: { percent: 100 } });
  expect(seen.at(-1)?.stages.map((stage) => stage.name)).toEqual(['step-1', 'step-2', 'step-3']);
}

describe.each(testBackendNames())('sdk tasks (in process) on %s', (backend) => {
  let server: InProcessServer;
  let client: ProServerClient;
  const started = new Latch<string>();

  beforeAll(async () => {
    server = await startInProcess(backend);
    client = server.owner;
    server.core.tasks.define({
      type: 'test.waiting',
      payload: z.object({}).optional(),
      async run(ctx) {
        started.resolve(ctx.taskId);
        ctx.log.warn('waiting for a cancel');
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      },
    });
  });
  afterAll(() => server.close());

  it('submit + wait with onProgress; status, result and logs', async () => {
    const { final, seen } = await submitAndWatch(client);
    expectStagedProgress(final, seen);
    expect(final.links.self).toBe(`/api/tasks/${final.id}`);
    expect(await client.tasks.status(final.id)).toMatchObject({ status: 'completed', attempt: 1 });
    expect(await client.tasks.result(final.id)).toMatchObject({ status: 'completed', result: { value: 'staged' } });
    expect(await client.tasks.logs(final.id)).toEqual({ items: [], nextAfter: null });
  });

  it('submit with waitSeconds sends Prefer: wait and gets the final task; idempotencyKey returns the original', async () => {
    const input = { type: ECHO_TASK_TYPE, payload: { value: 7 }, tags: ['sdk-sync'] };
    const task = await client.tasks.submit(input, { waitSeconds: 5, idempotencyKey: 'sdk-sync-1' });
    expect(task).toMatchObject({ status: 'completed' });
    const sent = server.requests.at(-1);
    expect(sent?.headers.get('prefer')).toBe('wait=5');
    expect(sent?.headers.get('idempotency-key')).toBe('sdk-sync-1');
    const again = await client.tasks.submit(input, { idempotencyKey: 'sdk-sync-1' });
    expect(again.id).toBe(task.id);
    expect((await client.tasks.list({ tag: 'sdk-sync' })).items.map((t) => t.id)).toEqual([task.id]);
  });

  it('list and listAll follow cursors with filters', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.tasks.submit({ type: ECHO_TASK_TYPE, tags: ['sdk-paged'] })).id);
    const pages: Page<Task>[] = [];
    for await (const page of client.tasks.listAll({ tag: 'sdk-paged', limit: 2 })) pages.push(page);
    expect(pages.map((p) => p.items.length)).toEqual([2, 1]);
    expect(pages.flatMap((p) => p.items.map((t) => t.id)).sort()).toEqual(ids.sort());
    expect((await client.tasks.list({ tag: 'sdk-paged', type: 'test.waiting' })).items).toEqual([]);
  });

  it('cancel a running task, then retry it; wait times out and aborts cleanly', async () => {
    const task = await client.tasks.submit({ type: 'test.waiting' });
    expect(await started.promise).toBe(task.id);

    const timedOut = await client.tasks.wait(task.id, { timeoutMs: 30, pollIntervalMs: 10 }).catch((e: unknown) => e);
    expect(isApiError(timedOut, 'WAIT_TIMEOUT') && timedOut.status).toBe(0);
    const controller = new AbortController();
    const aborted = client.tasks.wait(task.id, { signal: controller.signal, pollIntervalMs: 10 });
    controller.abort(new Error('stop waiting'));
    await expect(aborted).rejects.toThrow('stop waiting');

    await client.tasks.cancel(task.id);
    const cancelled = await client.tasks.wait(task.id, { pollIntervalMs: 10 });
    expect(cancelled.status).toBe('cancelled');
    expect((await client.tasks.logs(task.id)).items[0]).toMatchObject({
      seq: 1,
      level: 'warn',
      message: 'waiting for a cancel',
    });
    const notAgain = await client.tasks.cancel(task.id).catch((e: unknown) => e);
    expect(notAgain).toMatchObject({ name: 'ApiError', status: 409, code: 'TASK_NOT_CANCELLABLE' });

    const retried = await client.tasks.retry(task.id);
    expect(['pending', 'running']).toContain(retried.status);
    await client.tasks.cancel(task.id);
    expect((await client.tasks.wait(task.id, { pollIntervalMs: 10 })).status).toBe('cancelled');
  });

  it('recurring tasks: runs and stopRecurring', async () => {
    const schedule = await client.tasks.submit({ type: ECHO_TASK_TYPE, recurrence: { everySeconds: 3600 } });
    expect(schedule.links.runs).toBe(`/api/tasks/${schedule.id}/runs`);
    // The scheduler loop may get there first; either way the clock stands still, so one run.
    await server.core.tasks.maintenance.spawnDueOccurrences();
    const runs = await client.tasks.runs(schedule.id);
    expect(runs.items).toHaveLength(1);
    expect(runs.items[0]?.parentId).toBe(schedule.id);
    expect(await client.tasks.stopRecurring(schedule.id)).toMatchObject({ status: 'cancelled', runCount: 1 });
  });

  it('types() lists task types with payload schemas; errors come back as ApiError', async () => {
    const types = await client.tasks.types();
    expect(types.find((t) => t.type === ECHO_TASK_TYPE)?.payloadSchema).toMatchObject({ type: 'object' });
    const invalid = await client.tasks
      .submit({ type: ECHO_TASK_TYPE, payload: { delayMs: -1 } })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 422, code: 'INVALID_PAYLOAD', errors: [{ path: 'payload.delayMs' }] });
    const missing = await client.tasks.get('task_missing').catch((e: unknown) => e);
    expect(isApiError(missing, 'NOT_FOUND')).toBe(true);
    const badWait = await client.tasks.submit({ type: ECHO_TASK_TYPE }, { waitSeconds: 61 }).catch((e: unknown) => e);
    expect(badWait).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [{ path: 'Prefer' }] });
  });
});

describe('sdk tasks against a listening server', () => {
  let core: Core;
  let server: { url: string; close(): Promise<void> };
  let client: ProServerClient;

  beforeAll(async () => {
    for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete process.env[name];
    core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 } });
    const boot = await core.auth.bootstrap();
    server = await startServer({ core, port: 0, hostname: '127.0.0.1' });
    client = createClient({ baseUrl: server.url, token: boot.secret ?? '' });
  });
  afterAll(async () => {
    await server?.close();
    await core?.close();
  });

  it('submit + wait with onProgress over the network', async () => {
    const { final, seen } = await submitAndWatch(client);
    expectStagedProgress(final, seen);
    expect((await client.tasks.result(final.id)).result).toEqual({ value: 'staged' });
  });
});
