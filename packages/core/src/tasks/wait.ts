import type { TaskRecord } from '../storage/ports.js';
import type { TaskEventEmitter } from './events.js';
import type { Task } from './types.js';
import { isFinal, toTask } from './views.js';

/** How often a waiter re-reads the task (it may finish on another node, whose events are not seen here). */
const WAIT_POLL_MS = 100;

/**
 * Resolves with the task once it is final, or with its state after `timeoutMs`. Local events
 * end the wait at once; a short poll covers tasks finishing on other nodes.
 */
export async function waitForFinal(args: {
  id: string;
  timeoutMs: number;
  load: (id: string) => Promise<TaskRecord>;
  events: TaskEventEmitter;
}): Promise<Task> {
  const { id, timeoutMs, load, events } = args;
  const first = await load(id);
  if (isFinal(first.status) || timeoutMs <= 0) return toTask(first);
  return new Promise<Task>((resolve, reject) => {
    let done = false;
    const offs: (() => void)[] = [];
    const finish = (task: Task | null, error?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(deadline);
      for (const off of offs) off();
      if (task) resolve(task);
      else reject(error);
    };
    const check = (final: boolean) => {
      load(id).then(
        (r) => (final || isFinal(r.status) ? finish(toTask(r)) : undefined),
        (error: unknown) => finish(null, error),
      );
    };
    const onFinal = (payload: { id: string }) => payload.id === id && check(false);
    offs.push(
      events.on('task.completed', onFinal),
      events.on('task.failed', onFinal),
      events.on('task.cancelled', onFinal),
    );
    const poll = setInterval(() => check(false), WAIT_POLL_MS);
    const deadline = setTimeout(() => check(true), timeoutMs);
    poll.unref?.();
  });
}
