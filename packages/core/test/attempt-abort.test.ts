import { describe, expect, it } from 'vitest';
import { AttemptAbort } from '../src/tasks/attempt-abort.js';
import { TaskAbortError } from '../src/tasks/task-error.js';

describe('AttemptAbort', () => {
  it('aborts a signal made earlier, with the first reason', () => {
    const abort = new AttemptAbort();
    const signal = abort.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    expect(signal.aborted).toBe(false);
    abort.abort('cancelled');
    abort.abort('timeout');
    expect(abort.reason).toBe('cancelled');
    expect(heard).toHaveLength(1);
    expect(heard[0]).toBeInstanceOf(TaskAbortError);
    expect((heard[0] as TaskAbortError).reason).toBe('cancelled');
  });

  it('makes a signal asked for after the abort already aborted', () => {
    const abort = new AttemptAbort();
    expect(abort.aborted).toBe(false);
    abort.abort('preempted');
    expect(abort.aborted).toBe(true);
    expect(abort.signal.aborted).toBe(true);
    expect(() => abort.signal.throwIfAborted()).toThrow(TaskAbortError);
    expect((abort.signal.reason as TaskAbortError).reason).toBe('preempted');
  });

  it('makes one signal per attempt', () => {
    const abort = new AttemptAbort();
    expect(abort.signal).toBe(abort.signal);
  });
});
