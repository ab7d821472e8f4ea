/**
 * `createApp(core, options)`: the Hono app that serves core over HTTP. Routes only validate,
 * check scopes, call one core service and serialise; every error becomes an RFC 9457 problem.
 */
import { type Core, ProServerError } from '@proserver/core';
import { type Context, Hono } from 'hono';
import type { AppEnv } from './env.js';
import { requireAuth } from './middleware/auth.js';
import { requestId } from './middleware/request-id.js';
import { requestLog } from './middleware/request-log.js';
import { type AppOptions, resolveAppOptions } from './options.js';
import { problemResponse } from './problem.js';
import { applicationTokenRoutes } from './routes/application-tokens.js';
import { docStoreRoutes } from './routes/doc-store.js';
import { eventRoutes } from './routes/events.js';
import { eventsWebSocketRoutes } from './routes/events-ws.js';
import { healthRoutes, pingRoutes, statusRoutes } from './routes/health.js';
import { keyValueRoutes } from './routes/key-value.js';
import { taskRoutes, taskTypeRoutes } from './routes/tasks.js';
import { PROSERVER_VERSION } from './version.js';
import { type RealtimeOptions, resolveRealtimeOptions } from './ws/realtime-options.js';
import type { WebSocketSupport } from './ws/websocket-support.js';

/**
 * {@link AppOptions} plus the real-time channels: their limits, and the WebSocket support of
 * the server that listens for the app (`startServer` passes it; without it an upgrade to
 * `<basePath>/ws` is answered 503).
 *
 * @example
 * createApp(core, { basePath: '/api', realtime: { maxBufferedBytes: 1 << 20 } });
 */
export interface CreateAppOptions extends AppOptions {
  realtime?: RealtimeOptions;
  webSockets?: WebSocketSupport;
}

/**
 * Builds the HTTP app. It does not own `core`: closing core is the caller's job.
 *
 * Every route under the base path except `ping` needs a bearer token, unknown ones included
 * (so the API's shape is not visible without one); `/health` is at the root, without auth.
 *
 * @example
 * const core = createCore({ storage: createMemoryStorage() });
 * const app = createApp(core, { basePath: '/api' });
 * const res = await app.request('/api/ping'); // 'pong'
 */
export function createApp(core: Core, options: CreateAppOptions = {}): Hono<AppEnv> {
  const resolved = resolveAppOptions(options, { logger: core.logger, version: PROSERVER_VERSION });
  const realtime = options.webSockets?.options ?? resolveRealtimeOptions(options.realtime);
  const { logger } = resolved;

  const app = new Hono<AppEnv>();
  app.use('*', requestId());
  app.use('*', requestLog(logger));
  app.onError((error, c) => problemResponse(c, error, logger));
  app.notFound((c) =>
    problemResponse(c, new ProServerError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), logger),
  );

  app.route('/', healthRoutes(core, resolved));
  if (!resolved.serveApi) {
    // A worker-only node (PROSERVER_ROLE=worker) answers health checks, nothing else.
    const noApi = (c: Context<AppEnv>): never => {
      throw new ProServerError('NOT_FOUND', `no API on this node (it runs task workers only): ${c.req.path}`);
    };
    app.all(resolved.basePath, noApi);
    app.all(`${resolved.basePath}/*`, noApi);
    return app;
  }

  const api = new Hono<AppEnv>();
  api.route('/', pingRoutes());
  // Before the auth middleware: a browser's WebSocket sends its token as a subprotocol.
  api.route('/ws', eventsWebSocketRoutes(core, resolved, options.webSockets));
  api.use('*', requireAuth(core, { trustProxy: resolved.trustProxy }));
  api.route('/', statusRoutes(core, resolved));
  api.route('/key-value', keyValueRoutes(core, resolved));
  api.route('/doc-store', docStoreRoutes(core, resolved));
  api.route('/application-tokens', applicationTokenRoutes(core, resolved));
  api.route('/tasks', taskRoutes(core, resolved));
  api.route('/task-types', taskTypeRoutes(core));
  api.route('/events', eventRoutes(core, realtime));
  app.route(resolved.basePath, api);
  return app;
}
