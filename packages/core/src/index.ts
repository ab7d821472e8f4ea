/**
 * `@proserver/core`: the platform as a library. No HTTP, no database driver in this entry:
 * storage comes from `@proserver/core/memory`, `/postgres` or `/pglite`.
 *
 * @example
 * import { createCore } from '@proserver/core';
 * import { createMemoryStorage } from '@proserver/core/memory';
 *
 * const core = createCore({ storage: createMemoryStorage() });
 * await core.kv.upsert({ key: 'pipelines/main/status', value: 'green' });
 * await core.close();
 */
import { createAuthService } from './auth/auth-service.js';
import { CachingAuthStore, DEFAULT_TOKEN_CACHE_TTL_MS } from './auth/token-cache.js';
import { createTokenService } from './auth/token-service.js';
import type { AuthService, TokenService } from './auth/types.js';
import { type Clock, systemClock } from './clock.js';
import { createDocService, DEFAULT_MAX_DOCUMENT_BYTES } from './docs/service.js';
import type { DocService } from './docs/types.js';
import { createEventService } from './events/service.js';
import { type EventLogConfig, type EventService, resolveEventLogSettings } from './events/types.js';
import { EVENT_WRITING_METHODS, wakeAfterWrites } from './events/wake-after-writes.js';
import { createIds, type Ids } from './ids.js';
import { createKvService } from './kv/service.js';
import type { KvService } from './kv/types.js';
import { type Logger, silentLogger } from './logger.js';
import { type BackgroundLoop, startLoop } from './loop.js';
import type { Storage } from './storage/ports.js';
import { createTaskEngine } from './tasks/service.js';
import { resolveTaskEngineSettings, type TaskEngineConfig } from './tasks/settings.js';
import type { TaskEngine } from './tasks/types.js';

export interface CoreOptions {
  storage: Storage;
  clock?: Clock;
  ids?: Ids;
  logger?: Logger;
  kv?: {
    /** Largest value, as JSON text (default 256 KiB). */
    maxValueBytes?: number;
    /** How often expired keys are swept (default 30 s; 0 disables the sweeper). */
    sweepIntervalMs?: number;
  };
  /**
   * The task engine: worker slots of this process and timings (see `resolveTaskEngineSettings`).
   * `workers: {critical: 0, normal: 0, batch: 0}` makes an API-only node that runs no tasks.
   */
  tasks?: TaskEngineConfig;
  /** The document store (SPEC §5). */
  docs?: {
    /** Largest document, as JSON text (default 1 MiB). */
    maxDocumentBytes?: number;
    /**
     * Version history kept per document: at most `maxVersions` entries (default 100; null keeps
     * all) and none older than `maxAgeDays` (default null: no age limit), except that the
     * newest entry of a live document is always kept (the change feed reads history).
     */
    historyRetention?: { maxVersions?: number | null; maxAgeDays?: number | null };
    /** How often the age-based history pruner runs (default 10 min; 0 disables it). */
    historyPruneIntervalMs?: number;
  };
  tokens?: {
    /** Longest allowed application-token lifetime (default 365 days). */
    maxExpiryDays?: number;
    /** Longest rotation grace period (default 7 days). */
    maxGraceSeconds?: number;
    /**
     * How long a successful token lookup may be reused (default 2 s on PGlite and PostgreSQL,
     * 0 = off; always off on memory). Revocations clear every node's cache at once through
     * the storage's notifier; see auth/token-cache.ts.
     */
    cacheTtlMs?: number;
  };
  /** The event log: retention and timings (see `EventLogConfig`). */
  events?: EventLogConfig;
  /** Upkeep the storage backend does not do itself. */
  maintenance?: {
    /** How often `storage.vacuum()` runs where the storage has it: PGlite (default 60 s; 0 disables). */
    vacuumIntervalMs?: number;
  };
}

export interface Core {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly logger: Logger;
  readonly kv: KvService;
  readonly tokens: TokenService;
  readonly auth: AuthService;
  readonly tasks: TaskEngine;
  /** The event log (SPEC §4): publish, read, subscribe. */
  readonly events: EventService;
  readonly docs: DocService;
  /** Stops every background loop and the task worker, then closes the storage's connections. */
  close(): Promise<void>;
}

export const DEFAULT_KV_SWEEP_INTERVAL_MS = 30_000;
export const DEFAULT_DOC_HISTORY_PRUNE_INTERVAL_MS = 10 * 60_000;
export const DEFAULT_VACUUM_INTERVAL_MS = 60_000;

/** Wires the services onto one storage backend and starts the background loops. */
export function createCore(options: CoreOptions): Core {
  const { storage: backend } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? createIds(() => clock.now().getTime());
  const logger = options.logger ?? silentLogger;
  const tokenLimits = {
    maxExpiryDays: options.tokens?.maxExpiryDays ?? 365,
    maxGraceSeconds: options.tokens?.maxGraceSeconds ?? 7 * 24 * 3600,
  };

  // The memory store answers a lookup as fast as a cache would: cache only real databases.
  const authStore = new CachingAuthStore({
    store: backend.auth,
    notifier: backend.notifier,
    logger,
    ttlMs: options.tokens?.cacheTtlMs ?? (backend.kind === 'memory' ? 0 : DEFAULT_TOKEN_CACHE_TTL_MS),
  });
  const authCacheStarted = authStore.start();
  const events = createEventService({
    store: backend.events,
    auth: backend.auth,
    notifier: backend.notifier,
    clock,
    ids,
    logger,
    settings: resolveEventLogSettings(options.events),
  });
  // Stores that append events wake this process's sequencer after each write, so their events
  // are numbered at once (memory numbers them as they are appended).
  const wake = (appended: boolean) => events.wakeSequencer({ appended });
  const withWake = <T extends object>(store: T, methods: readonly string[]): T =>
    backend.kind === 'memory' ? store : wakeAfterWrites(store, methods, wake);
  // Everything in this process that writes auth data through core goes through the cache,
  // so its own changes clear it at once.
  const storage: Storage = {
    ...backend,
    kv: withWake(backend.kv, EVENT_WRITING_METHODS.kv),
    tasks: withWake(backend.tasks, EVENT_WRITING_METHODS.tasks),
    auth: withWake(authStore, EVENT_WRITING_METHODS.auth),
    docs: withWake(backend.docs, EVENT_WRITING_METHODS.docs),
  };
  const kv = createKvService({
    store: storage.kv,
    clock,
    ids,
    maxValueBytes: options.kv?.maxValueBytes ?? 256 * 1024,
  });
  const docsOptions = options.docs ?? {};
  const maxHistoryAgeDays = docsOptions.historyRetention?.maxAgeDays ?? null;
  const docs = createDocService({
    store: storage.docs,
    events: storage.events,
    clock,
    ids,
    maxDocumentBytes: docsOptions.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
    maxHistoryVersions:
      docsOptions.historyRetention?.maxVersions === undefined ? 100 : docsOptions.historyRetention.maxVersions,
    maxHistoryAgeMs: maxHistoryAgeDays === null ? null : maxHistoryAgeDays * 24 * 3600 * 1000,
  });
  const tokens = createTokenService({ store: storage.auth, clock, ids, ...tokenLimits });
  const auth = createAuthService({ store: storage.auth, clock, ids, logger, ...tokenLimits });

  const tasks = createTaskEngine({
    store: storage.tasks,
    notifier: storage.notifier,
    clock,
    ids,
    logger,
    settings: resolveTaskEngineSettings({
      progressIntervalMs: options.events?.progressEventIntervalMs,
      ...options.tasks,
    }),
  });

  const loops: BackgroundLoop[] = [];
  const sweepIntervalMs = options.kv?.sweepIntervalMs ?? DEFAULT_KV_SWEEP_INTERVAL_MS;
  if (sweepIntervalMs > 0) {
    loops.push(
      startLoop({
        name: 'kv-sweeper',
        intervalMs: sweepIntervalMs,
        logger,
        run: async () => {
          await kv.sweepExpired();
        },
      }),
    );
  }

  const pruneIntervalMs = docsOptions.historyPruneIntervalMs ?? DEFAULT_DOC_HISTORY_PRUNE_INTERVAL_MS;
  if (maxHistoryAgeDays !== null && pruneIntervalMs > 0) {
    loops.push(
      startLoop({
        name: 'doc-history-pruner',
        intervalMs: pruneIntervalMs,
        logger,
        run: async () => {
          await docs.pruneHistory();
        },
      }),
    );
  }

  const vacuumIntervalMs = options.maintenance?.vacuumIntervalMs ?? DEFAULT_VACUUM_INTERVAL_MS;
  if (storage.vacuum && vacuumIntervalMs > 0) {
    loops.push(
      startLoop({
        name: 'storage-vacuum',
        intervalMs: vacuumIntervalMs,
        logger,
        run: async () => {
          await storage.vacuum?.();
        },
      }),
    );
  }

  let closing: Promise<void> | undefined;
  return {
    storage,
    clock,
    ids,
    logger,
    kv,
    tokens,
    auth,
    tasks,
    docs,
    events,
    close() {
      closing ??= (async () => {
        await authCacheStarted;
        await Promise.all([...loops.map((loop) => loop.stop()), tasks.stop(), authStore.stop()]);
        // After the task worker wrote its last outcomes; ends every subscription ('shutdown').
        await events.close();
        await storage.close();
      })();
      return closing;
    },
  };
}

export * from './auth/scopes.js';
export type * from './auth/types.js';
export { SYSTEM_PRINCIPAL } from './auth/types.js';
export * from './auth/validation.js';
export { type Clock, systemClock } from './clock.js';
export { MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH, MAX_IN_VALUES } from './docs/filter.js';
export { parseOrderParameter } from './docs/order.js';
export { DOC_SEGMENT_PATTERN, MAX_DOC_PATH_DEPTH, parseCollectionPath, parseDocPath } from './docs/paths.js';
export { DEFAULT_MAX_DOCUMENT_BYTES } from './docs/service.js';
export type * from './docs/types.js';
export * from './docs/validation.js';
export {
  ERROR_CODES,
  type ErrorCode,
  type FieldError,
  isProServerError,
  ProServerError,
} from './errors.js';
export { EVENTS_CHANNEL } from './events/channels.js';
export { DEFAULT_EVENT_READ_LIMIT, MAX_CUSTOM_EVENT_BYTES, MAX_EVENT_READ_LIMIT } from './events/service.js';
export { MAX_TOPICS, parseTopics, type TopicSet } from './events/topics.js';
export type {
  EventLogConfig,
  EventService,
  EventSubscription,
  ProServerEvent,
  SubscribeOptions,
  SubscriptionEndReason,
} from './events/types.js';
export { resolveEventLogSettings } from './events/types.js';
export { canSeeEvent } from './events/visibility.js';
export { createIds, type IdPrefix, type Ids } from './ids.js';
export type * from './kv/types.js';
export * from './kv/validation.js';
export { createJsonLogger, isLogLevel, type Logger, type LogLevel, silentLogger } from './logger.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type Page } from './pagination.js';
export type * from './storage/ports.js';
export { ECHO_TASK_TYPE } from './tasks/echo-task.js';
export type { TaskEventMap, TaskEventName, TaskEvents } from './tasks/events.js';
export { DEFAULT_TASK_TIMEOUT_MS } from './tasks/registry.js';
export { DEFAULT_RETRY_POLICY, retryDelayMs } from './tasks/retry-policy.js';
export { DEFAULT_TASK_WORKERS, resolveTaskEngineSettings, type TaskEngineConfig } from './tasks/settings.js';
export { NonRetryableError, TaskAbortError, type TaskAbortReason, toTaskError } from './tasks/task-error.js';
export type * from './tasks/types.js';
export * from './tasks/validation.js';
export { jsonByteLength, parseInput } from './validation.js';
