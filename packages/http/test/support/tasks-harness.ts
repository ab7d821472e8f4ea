/**
 * The task tests' harness: like harness.ts, with the task engine configured for tests. The
 * scheduler and purge loops are off (tests spawn occurrences with `maintenance`), so the
 * ManualClock alone decides when a schedule is due; workers run and wake on every submit.
 */
import { SYSTEM_PRINCIPAL, type Task, type TaskEngineConfig } from '@proserver/core';
import type { BackendName } from '@proserver/core/testing';
import type { AppOptions } from '@proserver/http';
import { createHarness, type Harness } from './harness.js';

export interface TasksHarness extends Harness {
  /** Every task the core holds, schedules and runs included (read back directly, not through HTTP). */
  allTasks(): Promise<Task[]>;
}

export async function createTasksHarness(
  backend: BackendName,
  options: { app?: AppOptions; tasks?: TaskEngineConfig } = {},
): Promise<TasksHarness> {
  const harness = await createHarness(backend, {
    ...(options.app ? { app: options.app } : {}),
    core: { tasks: { schedulerIntervalMs: 0, purgeIntervalMs: 0, pollIntervalMs: 200, ...options.tasks } },
  });
  return {
    ...harness,
    async allTasks() {
      const tasks: Task[] = [];
      let cursor: string | undefined;
      do {
        const page = await harness.core.tasks.list(SYSTEM_PRINCIPAL, { limit: 1000, ...(cursor ? { cursor } : {}) });
        tasks.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return tasks;
    },
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
