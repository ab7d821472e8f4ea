/**
 * The polling behind `client.tasks.wait`, with fake timers: when it polls, when it reports
 * progress, and how it ends (final, timeout, abort, a failing read).
 */
import { ApiError, type TaskStatusView } from '@proserver/sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pollUntilFinal } from '../src/task-wait.js';

const view = (status: TaskStatusView['status'], percent: number | null = null): TaskStatusView => ({
  status,
  attempt: 1,
  progress: percent === null ? null : { percent, message: null },
  stage: null,
  stages: [],
  error: null,
});

/** A status source that answers the given views in turn (the last one forever) and records when it was read. */
function scripted(views: TaskStatusView[]) {
  const readAt: number[] = [];
  let index = 0;
  return {
    readAt,
    read: async () => {
      readAt.push(Date.now());
      const next = views[Math.min(index, views.length - 1)] as TaskStatusView;
      index++;
      return next;
    },
  };
}

describe('pollUntilFinal', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('slows down ×1.5 while nothing changes (capped at 2 s), speeds up after a change, reports changes only', async () => {
    const source = scripted([
      ...Array.from({ length: 6 }, () => view('running', 10)),
      view('running', 50),
      view('running', 50),
      view('completed', 100),
    ]);
    const reports: TaskStatusView[] = [];
    const done = pollUntilFinal('task_1', source.read, { pollIntervalMs: 500, onProgress: (s) => reports.push(s) });
    await vi.runAllTimersAsync();
    expect(await done).toMatchObject({ status: 'completed' });
    const gaps = source.readAt.slice(1).map((at, i) => at - (source.readAt[i] as number));
    expect(gaps).toEqual([500, 750, 1125, 1688, 2000, 2000, 500, 750]);
    expect(reports.map((r) => [r.status, r.progress?.percent])).toEqual([
      ['running', 10],
      ['running', 50],
      ['completed', 100],
    ]);
  });

  it('rejects with WAIT_TIMEOUT (status 0) once timeoutMs has passed', async () => {
    const source = scripted([view('pending')]);
    const done = pollUntilFinal('task_2', source.read, { timeoutMs: 1200, pollIntervalMs: 500 });
    const outcome = done.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await outcome;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 0, code: 'WAIT_TIMEOUT' });
    expect((error as ApiError).detail).toContain('task_2 was still pending after 1200 ms');
    expect(source.readAt).toEqual([0, 500, 1200]);
  });

  it('rejects with the signal reason on abort, and passes a failing read through', async () => {
    const controller = new AbortController();
    const source = scripted([view('running')]);
    const done = pollUntilFinal('task_3', source.read, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(600);
    controller.abort(new Error('no longer interested'));
    expect(await done).toMatchObject({ message: 'no longer interested' });
    const reads = source.readAt.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(source.readAt.length).toBe(reads);

    const failing = pollUntilFinal('task_4', () =>
      Promise.reject(new ApiError({ status: 404, code: 'NOT_FOUND', detail: 'gone' })),
    );
    await expect(failing).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(pollUntilFinal('task_5', source.read, { pollIntervalMs: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
