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
  /** Stops every background loop and the task worker, then closes the storage's connections. */
  close(): Promise<void>;
}

export const DEFAULT_KV_SWEEP_INTERVAL_MS = 30_000;

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
  // Everything in this process that writes auth data through core goes through the cache,
  // so its own changes clear it at once.
  const storage: Storage = { ...backend, auth: authStore };
  const kv = createKvService({
    store: storage.kv,
    clock,
    maxValueBytes: options.kv?.maxValueBytes ?? 256 * 1024,
  });
  const tokens = createTokenService({ store: authStore, clock, ids, ...tokenLimits });
  const auth = createAuthService({ store: authStore, clock, ids, logger, ...tokenLimits });

  const tasks = createTaskEngine({
    store: storage.tasks,
    notifier: storage.notifier,
    clock,
    ids,
    logger,
    settings: resolveTaskEngineSettings(options.tasks),
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
    close() {
      closing ??= (async () => {
        await authCacheStarted;
        await Promise.all([...loops.map((loop) => loop.stop()), tasks.stop(), authStore.stop()]);
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
export {
  ERROR_CODES,
  type ErrorCode,
  type FieldError,
  isProServerError,
  ProServerError,
} from './errors.js';
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
