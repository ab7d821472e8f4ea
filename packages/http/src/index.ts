/**
 * `@proserver/http`: the HTTP host for @proserver/core.
 *
 * @example
 * import { createCore } from '@proserver/core';
 * import { createMemoryStorage } from '@proserver/core/memory';
 * import { startServer } from '@proserver/http';
 *
 * const core = createCore({ storage: createMemoryStorage() });
 * const server = await startServer({ core, port: 3029 });
 */
export { type CreateAppOptions, createApp } from './app.js';
export type { AppEnv } from './env.js';
export { ERROR_STATUS } from './error-status.js';
export {
  type AppOptions,
  DEFAULT_BASE_PATH,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_IMPORT_BYTES,
} from './options.js';
export { PROBLEM_CONTENT_TYPE, type ProblemBody, problemBody } from './problem.js';
export { type RunningServer, type StartServerOptions, startServer } from './server.js';
export { PROSERVER_VERSION } from './version.js';
export { CLOSE_CODES } from './ws/close-codes.js';
export { type RealtimeOptions, resolveRealtimeOptions } from './ws/realtime-options.js';
