/** The `Storage` aggregate: every store of one backend. */
import type { AuthStore } from './auth.js';
import type { DocStore } from './docs.js';
import type { EventStore } from './events.js';
import type { KvStore } from './kv.js';
import type { Notifier } from './notifier.js';
import type { TaskStore } from './tasks.js';

/** All the stores of one backend. `close()` releases its connections. */
export interface Storage {
  readonly kind: 'memory' | 'pglite' | 'postgres';
  readonly kv: KvStore;
  readonly auth: AuthStore;
  readonly tasks: TaskStore;
  /** The document store (SPEC §5). */
  readonly docs: DocStore;
  /** The event log (SPEC §4): every store above appends its events in the unit of work of its change. */
  readonly events: EventStore;
  /** Cross-process wake-ups (PostgreSQL LISTEN/NOTIFY; an in-process emitter elsewhere). */
  readonly notifier: Notifier;
  /** Throws when the backend cannot answer (used by health checks). */
  ping(): Promise<void>;
  /**
   * Reclaims the space of changed and deleted rows, where the backend does not do it itself:
   * PGlite runs PostgreSQL without autovacuum (see pglite-vacuum.ts). Absent elsewhere (a
   * PostgreSQL server has autovacuum; memory frees as it goes). The core calls it on a timer.
   */
  vacuum?(): Promise<void>;
  close(): Promise<void>;
}
