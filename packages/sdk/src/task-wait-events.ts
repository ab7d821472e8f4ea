/**
 * Waiting for a task over the WebSocket: its events (topic `task:<id>`) say when to look,
 * its status read says what is true. Each event triggers one status read (reads never
 * overlap: events arriving meanwhile are folded into one more read), so `onProgress` sees
 * the same views as with polling, far sooner and with far fewer requests. When the socket
 * cannot be opened (no server support, a proxy that drops upgrades) it falls back to polling.
 */
import { ApiError } from './errors.js';
import type { EventsClient } from './events-client.js';
import type { WaitOptions } from './task-inputs.js';
import type { TaskStatusView } from './task-types.js';
import { checkMs, isFinalStatus, pollUntilFinal } from './task-wait.js';

/** While subscribed, the status is also read this often in case an event went missing. */
export const SAFETY_READ_INTERVAL_MS = 15_000;

/**
 * Waits until the task is final: over the WebSocket when `via` is `ws` (or unset and a
 * WebSocket is available), else by polling. An unset `via` falls back to polling when the
 * socket fails before the subscription is confirmed (or is refused later); `via: 'ws'` never
 * falls back and rejects with the failure instead (`WEBSOCKET_UNAVAILABLE` without a WebSocket).
 *
 * @example
 * const final = await waitForTask(id, () => client.tasks.status(id), client.events, { timeoutMs: 60_000 });
 */
export async function waitForTask(
  id: string,
  readStatus: () => Promise<TaskStatusView>,
  events: EventsClient | undefined,
  options: WaitOptions = {},
): Promise<TaskStatusView> {
  const via = options.via ?? (events?.webSocketAvailable ? 'ws' : 'poll');
  if (via === 'poll' || events === undefined) {
    if (via === 'ws') throw unavailable();
    return pollUntilFinal(id, readStatus, options);
  }
  if (!events.webSocketAvailable) throw unavailable();
  const started = Date.now();
  const outcome = await watchTaskEvents(id, readStatus, events, options);
  if ('view' in outcome) return outcome.view;
  if (options.via === 'ws') throw outcome.failure;
  const rest =
    options.timeoutMs === undefined ? {} : { timeoutMs: Math.max(0, options.timeoutMs - (Date.now() - started)) };
  return pollUntilFinal(id, readStatus, { ...options, ...rest });
}

type WatchOutcome = { view: TaskStatusView } | { failure: unknown };

function watchTaskEvents(
  id: string,
  readStatus: () => Promise<TaskStatusView>,
  events: EventsClient,
  options: WaitOptions,
): Promise<WatchOutcome> {
  const { onProgress, signal } = options;
  const timeoutMs = options.timeoutMs === undefined ? undefined : checkMs('timeoutMs', options.timeoutMs, 0);
  signal?.throwIfAborted();
  return new Promise<WatchOutcome>((resolve, reject) => {
    let settled = false;
    let subscribed = false;
    let reading = false;
    let readAgain = false;
    let lastKey: string | undefined;
    let lastView: TaskStatusView | undefined;
    let safetyTimer: ReturnType<typeof setInterval> | undefined;
    let timeoutTimer: ReturnType<typeof setTimeout> | undefined;

    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(safetyTimer);
      clearTimeout(timeoutTimer);
      signal?.removeEventListener('abort', onAbort);
      subscription.close();
      settle();
    };
    const onAbort = () => finish(() => reject(signal?.reason));

    const refresh = async () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      try {
        do {
          readAgain = false;
          const view = await readStatus();
          if (settled) return;
          lastView = view;
          const key = JSON.stringify([view.status, view.progress, view.stage]);
          if (key !== lastKey) {
            lastKey = key;
            onProgress?.(view);
          }
          if (isFinalStatus(view.status)) {
            finish(() => resolve({ view }));
            return;
          }
        } while (readAgain && !settled);
      } catch (error) {
        finish(() => reject(error));
      } finally {
        reading = false;
      }
    };

    const subscription = events.subscribe([`task:${id}`], () => void refresh(), {
      onSubscribed: () => {
        subscribed = true;
        safetyTimer ??= setInterval(() => void refresh(), SAFETY_READ_INTERVAL_MS);
        // Read once per (re)subscription: the task may have moved before the socket was up.
        void refresh();
      },
      onError: (error) => {
        // Before the first confirmation any failure means "cannot connect"; later ones are
        // reconnects, unless the subscription ended (refused): then stop watching too.
        if (!subscribed || subscription.ended) finish(() => resolve({ failure: error }));
      },
    });

    if (timeoutMs !== undefined) {
      timeoutTimer = setTimeout(() => {
        const state = lastView ? `still ${lastView.status}` : 'not final';
        finish(() =>
          reject(
            new ApiError({ status: 0, code: 'WAIT_TIMEOUT', detail: `task ${id} was ${state} after ${timeoutMs} ms` }),
          ),
        );
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function unavailable(): ApiError {
  return new ApiError({
    status: 0,
    code: 'WEBSOCKET_UNAVAILABLE',
    detail: 'via "ws" needs a WebSocket: pass createClient({ WebSocket }) (e.g. from the "ws" package on Node 20)',
  });
}
