import type { Logger, TaskPriority } from '@proserver/core';

/**
 * Options of `createApp`. Every field has a default.
 *
 * @example
 * createApp(core, { basePath: '/sfp/api', trustProxy: true });
 */
export interface AppOptions {
  /** Where the API lives (default `/api`; e.g. `/sfp/api`). `/health` is always at the root. */
  basePath?: string;
  /** Largest JSON request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest NDJSON import body in bytes (default 32 MiB). */
  maxImportBytes?: number;
  /** Take client IPs from `X-Forwarded-For` (default false: only behind a proxy you run). */
  trustProxy?: boolean;
  /** Where request lines and unexpected errors go (default: core's logger). */
  logger?: Logger;
  /** Reported by `/health` and `GET /api` (default: this package's version). */
  version?: string;
  /** False on a worker-only node: `/health` is served, every API route answers 404 (default true). */
  serveApi?: boolean;
  /** The task worker slots core was created with, reported by `GET /api` (default: null, not known). */
  workerSlots?: Record<TaskPriority, number> | null;
}

/** Where the API lives unless `basePath` says otherwise: `createApp(core)` serves `/api/ping`. */
export const DEFAULT_BASE_PATH = '/api';
/** Largest JSON body by default (1 MiB); e.g. `createApp(core, { maxBodyBytes: DEFAULT_MAX_BODY_BYTES * 2 })`. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Largest NDJSON import body by default (32 MiB). */
export const DEFAULT_MAX_IMPORT_BYTES = 32 * 1024 * 1024;

/** {@link AppOptions} with every default applied. */
export type ResolvedAppOptions = Required<AppOptions>;

/** Applies defaults and checks the options (a bad option is a programming error: it throws). */
export function resolveAppOptions(
  options: AppOptions,
  defaults: { logger: Logger; version: string },
): ResolvedAppOptions {
  const basePath = (options.basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) {
    throw new Error(`basePath must look like /api or /sfp/api, got ${JSON.stringify(options.basePath)}`);
  }
  const positive = (name: string, value: number) => {
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
    return value;
  };
  return {
    basePath,
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    maxImportBytes: positive('maxImportBytes', options.maxImportBytes ?? DEFAULT_MAX_IMPORT_BYTES),
    trustProxy: options.trustProxy ?? false,
    logger: options.logger ?? defaults.logger,
    version: options.version ?? defaults.version,
    serveApi: options.serveApi ?? true,
    workerSlots: options.workerSlots ?? null,
  };
}
