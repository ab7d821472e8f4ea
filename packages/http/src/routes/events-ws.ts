/**
 * `GET <basePath>/ws`: the WebSocket endpoint (SPEC §4). Authentication happens before the
 * upgrade, so a missing, garbled, revoked or expired token is an HTTP 401 and no socket is
 * ever opened for it. Mounted before the API's auth middleware, because browsers send the
 * token as a subprotocol, not as a header.
 */
import { type Core, ProServerError } from '@proserver/core';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { clientIp } from '../middleware/auth.js';
import type { ResolvedAppOptions } from '../options.js';
import { methodNotAllowed } from '../problem.js';
import { socketBearer } from '../ws/socket-auth.js';
import type { SocketSession } from '../ws/socket-session.js';
import type { WebSocketSupport } from '../ws/websocket-support.js';

/**
 * The WebSocket route, mounted at `<basePath>/ws`. Without `webSockets` (an app served in
 * process, not by `startServer`) an upgrade is answered 503 `UNAVAILABLE`.
 *
 * @example
 * api.route('/ws', eventsWebSocketRoutes(core, options, webSockets));
 */
export function eventsWebSocketRoutes(
  core: Core,
  options: ResolvedAppOptions,
  webSockets: WebSocketSupport | undefined,
): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
    const authorization = c.req.header('authorization');
    const protocols = c.req.header('sec-websocket-protocol');
    c.set('credentialsPresented', Boolean(authorization?.trim() || protocols?.toLowerCase().includes('bearer.')));
    const secret = socketBearer(authorization, protocols);
    c.set('principal', await core.auth.authenticate(secret, { ip: clientIp(c, options.trustProxy) }));
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ProServerError(
        'VALIDATION_FAILED',
        `${c.req.path} is a WebSocket endpoint: open it with a WebSocket client (Upgrade: websocket)`,
      );
    }
    if (webSockets === undefined || !hasNodeSocket(c)) {
      throw new ProServerError('UNAVAILABLE', 'WebSockets are served only by a listening server (startServer)');
    }
    await next();
  };

  if (webSockets === undefined) {
    routes.get('/', authenticate);
  } else {
    routes.get(
      '/',
      authenticate,
      webSockets.upgradeWebSocket((c) => {
        const principal = (c as Context<AppEnv>).get('principal');
        let session: SocketSession | undefined;
        return {
          onOpen(_event, ws) {
            if (ws.raw) session = webSockets.open(ws.raw, principal);
          },
          onMessage(event, _ws) {
            session?.receive(event.data);
          },
        };
      }),
    );
  }
  routes.all('/', methodNotAllowed(['GET']));
  return routes;
}

/** An in-process `app.request()` has no Node request to upgrade. */
function hasNodeSocket(c: Context<AppEnv>): boolean {
  const env: unknown = c.env;
  return typeof env === 'object' && env !== null && 'incoming' in env && env.incoming !== undefined;
}
