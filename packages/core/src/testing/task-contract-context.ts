import { expect } from 'vitest';
import type { Principal } from '../auth/types.js';
import type { ErrorCode, ProServerError } from '../errors.js';
import type { Core } from '../index.js';
import type { Storage } from '../storage/ports.js';
import type { TaskEngineConfig } from '../tasks/settings.js';
import type { Task } from '../tasks/types.js';
import type { BackendName } from './backends.js';
import type { ManualClock } from './manual-clock.js';

/** What every part of the task contract works with. */
export interface TaskContractContext {
  readonly backend: BackendName;
  readonly clock: ManualClock;
  /**
   * A core on the backend's shared storage (or a fresh one), with the background loops off and
   * polling slowed to a minute, so tests drive the passes and prove the wake-ups. Closed after the test.
   */
  startCore(options?: { tasks?: TaskEngineConfig; freshStorage?: boolean }): Promise<Core>;
  /** A type name unique to this test (workers claim only types they define, so tests never meet). */
  uniqueType(name: string): string;
}

/** A promise with its resolve, for handlers that must wait for the test. */
export class Latch<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = resolve;
    });
  }
}

/** Polls `core.tasks.get` (every 5 ms) until `predicate` holds; fails after `timeoutMs` with the last state. */
export async function waitForTask(
  core: Core,
  id: string,
  predicate: (task: Task) => boolean,
  timeoutMs = 10_000,
): Promise<Task> {
  const deadline = performance.now() + timeoutMs;
  let task = await core.tasks.get({ kind: 'system' }, id);
  while (!predicate(task)) {
    if (performance.now() > deadline) {
      throw new Error(`task ${id} did not reach the expected state; last: ${JSON.stringify(task)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    task = await core.tasks.get({ kind: 'system' }, id);
  }
  return task;
}

/** Polls `check` every 5 ms until it returns true. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const isStatus =
  (...statuses: Task['status'][]) =>
  (task: Task) =>
    statuses.includes(task.status);

/** A token principal with the given scopes. */
export function tokenPrincipal(tokenId: string, scopes: string[] = ['*']): Principal {
  return { kind: 'token', tokenId, userId: 'usr_test', role: 'owner', scopes };
}

/** Awaits `promise`, expects a ProServerError of `code`, returns it. */
export async function expectTaskError(promise: Promise<unknown>, code: ErrorCode): Promise<ProServerError> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected ${code}, but it succeeded with ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toMatchObject({ name: 'ProServerError', code });
  return outcome.error as ProServerError;
}

/** Storage whose close() does nothing: many cores share it within one backend's suite. */
export function sharedStorage(storage: Storage): Storage {
  return { ...storage, close: async () => {} };
}
