/**
 * The storage interfaces, one per domain, with just the methods the domain's use cases need.
 * Implementations: memory (`@proserver/core/memory`) and one PostgreSQL implementation used
 * through both the `postgres` driver and PGlite. The current time is always passed in
 * (`now`): stores never read a clock of their own.
 *
 * Each domain lives in its own module under ./ports/; this module re-exports them all:
 * - ports/storage.ts: `Storage`, the aggregate of every store of one backend
 * - ports/kv.ts: `KvStore` and its records and queries
 * - ports/auth.ts: `AuthStore`, users and tokens
 * - ports/tasks.ts: `TaskStore`; ports/task-records.ts: the task records, queries and outcomes it uses
 * - ports/events.ts: `EventStore`, events, and `ChangeContext` (shared by every store write)
 * - ports/docs.ts: `DocStore` and its records, writes and queries
 * - ports/notifier.ts: `Notifier`, cross-process wake-ups
 */
export type * from './ports/auth.js';
export type * from './ports/docs.js';
export type * from './ports/events.js';
export type * from './ports/kv.js';
export type * from './ports/notifier.js';
export type * from './ports/storage.js';
export type * from './ports/task-records.js';
export type * from './ports/tasks.js';
