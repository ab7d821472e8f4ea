/**
 * `@proserver/core/memory`: every store in process memory, with the same guarantees as
 * PostgreSQL for everything the contract suites check. For unit tests and for apps that
 * want no persistence.
 *
 * @example
 * import { createMemoryStorage } from '@proserver/core/memory';
 * const core = createCore({ storage: createMemoryStorage() });
 */
import type { Storage } from '../ports.js';
import { MemoryAuthStore } from './auth-store.js';
import { MemoryKvStore } from './kv-store.js';
import { createInProcessNotifier } from './notifier.js';
import { MemoryTaskStore } from './task-store.js';

export function createMemoryStorage(): Storage {
  return {
    kind: 'memory',
    kv: new MemoryKvStore(),
    auth: new MemoryAuthStore(),
    tasks: new MemoryTaskStore(),
    notifier: createInProcessNotifier(),
    async ping() {},
    async close() {},
  };
}
