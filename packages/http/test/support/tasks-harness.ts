/**
 * The task tests' harness: like harness.ts, with the task engine configured for tests. The
 * scheduler and purge loops are off (tests spawn occurrences with `maintenance`), so the
 * ManualClock alone decides when a schedule is due; workers run and wake on every submit.
 */
import { type Core, createCore, SYSTEM_PRINCIPAL, type Task, type TaskEngineConfig } from '@proserver/core';
import { type BackendName, createTestStorage, ManualClock } from '@proserver/core/testing';
import { type AppOptions, createApp } from '@proserver/http';
import type { CallOptions, Harness } from './harness.js';

export interface TasksHarness extends Harness {
  /** Every task the core holds, schedules and runs included (read back directly, not through HTTP). */
  allTasks(): Promise<Task[]>;
}

export async function createTasksHarness(
  backend: BackendName,
  options: { app?: AppOptions; tasks?: TaskEngineConfig } = {},
): Promise<TasksHarness> {
  const clock = new ManualClock('2026-03-01T12:00:00.000Z');
  const core: Core = createCore({
    storage: await createTestStorage(backend),
    clock,
    kv: { sweepIntervalMs: 0 },
    tasks: { schedulerIntervalMs: 0, purgeIntervalMs: 0, pollIntervalMs: 200, ...options.tasks },
  });
  const boot = await core.auth.bootstrap();
  if (!boot.secret) throw new Error('bootstrap on a fresh storage must return a secret');
  const owner = boot.secret;
  const app = createApp(core, options.app);

  const call: Harness['call'] = async (method, path, callOptions: CallOptions = {}) => {
    const headers: Record<string, string> = { ...callOptions.headers };
    const token = callOptions.token === undefined ? owner : callOptions.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let body = callOptions.body;
    if (callOptions.json !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      body = JSON.stringify(callOptions.json);
    }
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    return app.request(path, init);
  };

  return {
    core,
    clock,
    owner,
    app,
    call,
    async tokenWith(scopes, expiresInDays = 30) {
      const { secret } = await core.tokens.create(SYSTEM_PRINCIPAL, { name: 'test', expiresInDays, scopes });
      return secret;
    },
    async allTasks() {
      const tasks: Task[] = [];
      let cursor: string | undefined;
      do {
        const page = await core.tasks.list(SYSTEM_PRINCIPAL, { limit: 1000, ...(cursor ? { cursor } : {}) });
        tasks.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return tasks;
    },
    close: () => core.close(),
  };
}

/** Submits over HTTP and returns the parsed body, expecting `status` (202 unless told). */
export async function submitOk(
  h: Harness,
  json: unknown,
  options: { status?: number; headers?: Record<string, string>; token?: string } = {},
): Promise<Task & { links: Record<string, string> }> {
  const res = await h.call('POST', '/api/tasks', {
    json,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.token ? { token: options.token } : {}),
  });
  const text = await res.text();
  if (res.status !== (options.status ?? 202)) throw new Error(`submit answered ${res.status}: ${text}`);
  return JSON.parse(text);
}
