import type { Clock } from '../clock.js';
import type { Ids } from '../ids.js';
import type { ClaimedTask, TaskOutcome, TaskStore } from '../storage/ports.js';
import type { AttemptAbort } from './attempt-abort.js';
import { AttemptReporter } from './attempt-reporter.js';
import { releaseOutcome } from './claim-ahead.js';
import type { TaskEventEmitter } from './events.js';
import type { TaskRegistry } from './registry.js';
import { runAttempt } from './run-attempt.js';

export interface StartAttemptOptions {
  store: TaskStore;
  clock: Clock;
  /** Event ids of the attempt's progress, stage and log events. */
  ids: Ids;
  events: TaskEventEmitter;
  registry: TaskRegistry;
  workerId: string;
  logCap: number;
  progressIntervalMs: number;
  random: () => number;
}

/**
 * Runs one attempt of a claimed task under `controller` (see {@link runAttempt}), with a
 * reporter for its progress, stages and log lines. When the controller is already aborted (the
 * worker stopped before the task started), the handler never runs: the task is given back
 * unstarted ({@link releaseOutcome}).
 *
 * @example
 * const outcome = await startAttempt(record, new AttemptAbort(), options);
 * if (outcome) writer.enqueue({ outcome, record, reason: null });
 */
export function startAttempt(
  record: ClaimedTask,
  abort: AttemptAbort,
  options: StartAttemptOptions,
): Promise<TaskOutcome | null> {
  if (abort.aborted) return Promise.resolve(releaseOutcome(record));
  const { store, clock, ids, events, registry, workerId, logCap, progressIntervalMs, random } = options;
  const reporter = new AttemptReporter({
    store,
    clock,
    ids,
    events,
    workerId,
    taskId: record.id,
    attempt: record.attempt,
    logCap,
    progressIntervalMs,
  });
  return runAttempt(record, registry.get(record.type), abort, reporter, { clock, random });
}
