import { createDocsClient, type DocsClient } from './docs-client.js';
import { invalidResponse } from './errors.js';
import { createEventsClient, type EventsClient } from './events-client.js';
import { createKvClient, type KvClient } from './kv-client.js';
import { createTasksClient, type TasksClient } from './tasks-client.js';
import { createTokensClient, type TokensClient } from './tokens-client.js';
import { type ClientOptions, createTransport, readJson } from './transport.js';
import type { HealthStatus, ServerStatus } from './types.js';

/**
 * A typed client for one ProServer. Every method throws an {@link ApiError} on failure.
 *
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:3029', token: process.env.PROSERVER_TOKEN });
 * await client.kv.upsert({ key: 'pipelines/main/status', value: 'green' });
 */
export interface ProServerClient {
  /** `GET /api/ping`: answers `'pong'`; needs no token. */
  ping(): Promise<string>;
  /**
   * `GET /health`: needs no token. A server that reports itself `degraded` or `down`
   * (HTTP 503) still answers its status here instead of throwing.
   */
  health(): Promise<HealthStatus>;
  /** `GET /api`: the detailed status (database, queues, workers, uptime); needs a token. */
  status(): Promise<ServerStatus>;
  readonly kv: KvClient;
  readonly tokens: TokensClient;
  readonly tasks: TasksClient;
  readonly docs: DocsClient;
  readonly events: EventsClient;
}

/**
 * Creates a client. Give `token` for a fixed secret or `getToken` to look one up per request.
 *
 * @example
 * import { createClient, isApiError } from '@proserver/sdk';
 *
 * const client = createClient({ baseUrl: 'https://proserver.example.com', token: 'prs_…' });
 * try {
 *   const entry = await client.kv.get('pipelines/main/status');
 * } catch (error) {
 *   if (!isApiError(error, 'NOT_FOUND')) throw error;
 * }
 */
export function createClient(options: ClientOptions): ProServerClient {
  const transport = createTransport(options);
  const events = createEventsClient(transport, options);
  return {
    async ping() {
      const response = await transport.send({ method: 'GET', path: '/ping', auth: false });
      return (await response.text()).trim();
    },
    async health() {
      const response = await transport.send({ method: 'GET', path: '/health', outsideApi: true, auth: false }, [503]);
      const body = await readJson(response);
      if (!isHealthStatus(body)) throw invalidResponse(response, 'the health answer has no status and version');
      return body;
    },
    status: () => transport.json({ method: 'GET', path: '' }),
    kv: createKvClient(transport),
    tokens: createTokensClient(transport),
    tasks: createTasksClient(transport, events),
    events,
    docs: createDocsClient(transport),
  };
}

function isHealthStatus(value: unknown): value is HealthStatus {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.status === 'string' && typeof record.version === 'string';
}
