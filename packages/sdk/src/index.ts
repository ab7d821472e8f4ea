/**
 * `@proserver/sdk`: a typed client for ProServer, for Node ≥ 20 and modern browsers. It knows
 * only the wire format (no server code, no Node-only imports).
 *
 * @example
 * import { createClient } from '@proserver/sdk';
 *
 * const client = createClient({ baseUrl: 'http://127.0.0.1:3029', token: process.env.PROSERVER_TOKEN });
 * await client.kv.upsert({ key: 'pipelines/main/status', value: 'green', ttlSeconds: 3600 });
 * for await (const entry of client.kv.export({ prefix: 'pipelines/' })) console.log(entry.key);
 */
export { createClient, type ProServerClient } from './client.js';
export { DocApiError, type DocsClient } from './docs-client.js';
export type * from './docs-types.js';
export { ApiError, type ApiErrorInit, type FieldError, isApiError } from './errors.js';
export type * from './event-types.js';
export { type EventsClient, webSocketUrl } from './events-client.js';
export { INITIAL_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS } from './events-subscription.js';
export { encodeKeyPath } from './key-path.js';
export type { KvClient } from './kv-client.js';
export type * from './task-inputs.js';
export type * from './task-types.js';
export { DEFAULT_POLL_INTERVAL_MS, isFinalStatus, MAX_POLL_INTERVAL_MS } from './task-wait.js';
export type { TasksClient } from './tasks-client.js';
export type { TokensClient } from './tokens-client.js';
export type { ClientOptions, FetchLike } from './transport.js';
export type * from './types.js';
