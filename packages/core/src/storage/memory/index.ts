/**
 * `@proserver/core/memory`: every store in process memory, with the same guarantees as
 * PostgreSQL for everything the contract suites check. For unit tests and for apps that
 * want no persistence.
 *
 * @example
 * import { createMemoryStorage } from '@proserver/core/memory';
 * const core = createCore({ storage: createMemoryStorage() });
 */
import { EVENTS_CHANNEL } from '../../events/channels.js';
import type { Storage } from '../ports.js';
import { MemoryAuthStore } from './auth-store.js';
import { MemoryDocStore } from './doc-store.js';
import { MemoryEventLog } from './event-log.js';
import { MemoryEventStore } from './event-store.js';
import { MemoryKvStore } from './kv-store.js';
import { createInProcessNotifier } from './notifier.js';
import { MemoryTaskStore } from './task-store.js';

/** The memory storage: `events.log` is the one event log every memory store appends to. */
export interface MemoryStorage extends Storage {
  readonly events: MemoryEventStore;
}

export function createMemoryStorage(): MemoryStorage {
  // ONE log for every store, so all changes share one order; stores append to it in the same
  // synchronous step as their change.
  const log = new MemoryEventLog();
  const notifier = createInProcessNotifier();
  // Events are numbered as they are appended: announce them as a PostgreSQL sequencer pass does.
  log.onAppend((records) => void notifier.publish(EVENTS_CHANNEL, String(records.at(-1)?.seq ?? 0)));
  return {
    kind: 'memory',
    kv: new MemoryKvStore(log),
    auth: new MemoryAuthStore(log),
    tasks: new MemoryTaskStore(log, notifier),
    docs: new MemoryDocStore(log),
    events: new MemoryEventStore(log),
    notifier,
    async ping() {},
    async close() {},
  };
}

export { MemoryEventLog } from './event-log.js';
export { MemoryEventStore } from './event-store.js';
