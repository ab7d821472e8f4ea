import { ProServerError } from '../errors.js';
import type { EventStore } from '../storage/ports.js';

/**
 * Throws `EVENTS_EXPIRED` when events after `after` were purged by retention, so a reader
 * resuming from there would silently miss some: it must start again from a fresh state.
 * Used by every reader that resumes from an event-log seq (subscriptions, polling, the
 * document change feed).
 *
 * @example
 * await assertRetainedAfter(storage.events, since); // throws EVENTS_EXPIRED if purged
 */
export async function assertRetainedAfter(store: Pick<EventStore, 'bounds'>, after: number): Promise<void> {
  const { oldest, last } = await store.bounds();
  const purgedThrough = oldest === null ? last : oldest - 1;
  if (after < purgedThrough) {
    throw new ProServerError(
      'EVENTS_EXPIRED',
      `events after seq ${after} were purged (retention); the oldest retained is ${oldest ?? last}`,
      { details: { oldestSeq: oldest, lastSeq: last } },
    );
  }
}
