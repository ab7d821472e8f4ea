/**
 * WebSockets on @hono/node-server: the upgrade goes through the Hono app (request id, auth,
 * problem answers before the upgrade), then `ws` takes the socket. This module owns the
 * `ws` server, the live sessions, the heartbeat timer and shutting all of them down.
 */
import type { Server } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { createNodeWebSocket } from '@hono/node-ws';
import type { Core, Logger, Principal } from '@proserver/core';
import { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import type { WebSocket } from 'ws';
import type { AppEnv } from '../env.js';
import { CLOSE_CODES } from './close-codes.js';
import { HARD_MAX_MESSAGE_BYTES, type ResolvedRealtimeOptions } from './realtime-options.js';
import { PROSERVER_SUBPROTOCOL } from './socket-auth.js';
import { createSocketSession, type SocketSession } from './socket-session.js';

/** How long `close()` waits for clients to answer the close frame before cutting them off. */
const SHUTDOWN_GRACE_MS = 1000;

/**
 * The WebSocket side of a listening server, created by `startServer` and handed to
 * `createApp` (which mounts `GET <basePath>/ws` with it).
 *
 * @example
 * const webSockets = createWebSocketSupport(core, resolveRealtimeOptions(), core.logger);
 * const app = createApp(core, { webSockets });
 * webSockets.inject(server, app);
 */
export interface WebSocketSupport {
  readonly upgradeWebSocket: UpgradeWebSocket<WebSocket>;
  readonly options: ResolvedRealtimeOptions;
  /** Serves upgraded sockets for `principal` (called by the route once the upgrade is accepted). */
  open(socket: WebSocket, principal: Principal): SocketSession;
  /** Routes `server`'s upgrade requests through `app`. */
  inject(server: Server | Http2Server | Http2SecureServer, app: Hono<AppEnv>): void;
  /** Live sockets (for tests and status). */
  readonly openSockets: number;
  /** Closes every socket (1001) and stops the heartbeat. */
  close(): Promise<void>;
}

/**
 * Creates the WebSocket support of one server.
 *
 * @example
 * const webSockets = createWebSocketSupport(core, resolveRealtimeOptions({ heartbeatIntervalMs: 10_000 }), logger);
 */
export function createWebSocketSupport(core: Core, options: ResolvedRealtimeOptions, logger: Logger): WebSocketSupport {
  // @hono/node-ws needs the app when an upgrade arrives, but the app needs `upgradeWebSocket`
  // when it is built: a front app forwards upgrades to the real one, set by `inject`.
  let target: Hono<AppEnv> | undefined;
  const front = new Hono();
  front.all('*', (c) => {
    if (target === undefined) return c.body(null, 503);
    return target.fetch(c.req.raw, c.env);
  });
  const nodeWs = createNodeWebSocket({ app: front });
  // Never echo a `bearer.<token>` entry: answer `proserver.v1` when offered, else nothing.
  nodeWs.wss.options.handleProtocols = (protocols: Set<string>) =>
    protocols.has(PROSERVER_SUBPROTOCOL) ? PROSERVER_SUBPROTOCOL : false;
  nodeWs.wss.options.maxPayload = HARD_MAX_MESSAGE_BYTES;

  const sessions = new Map<WebSocket, SocketSession>();
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  function ensureHeartbeat(): void {
    if (heartbeat !== undefined) return;
    heartbeat = setInterval(() => {
      for (const session of sessions.values()) session.heartbeat();
    }, options.heartbeatIntervalMs);
    heartbeat.unref();
  }

  return {
    upgradeWebSocket: nodeWs.upgradeWebSocket,
    options,
    open(socket, principal) {
      const session = createSocketSession({ core, principal, socket, options, logger });
      sessions.set(socket, session);
      ensureHeartbeat();
      socket.once('close', () => {
        sessions.delete(socket);
        void session.dispose();
      });
      return session;
    },
    inject(server, app) {
      target = app;
      nodeWs.injectWebSocket(server);
    },
    get openSockets() {
      return sessions.size;
    },
    async close() {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      heartbeat = undefined;
      const sockets = [...sessions.keys()];
      const closed = sockets.map(
        (socket) =>
          new Promise<void>((resolve) =>
            socket.readyState === socket.CLOSED ? resolve() : socket.once('close', () => resolve()),
          ),
      );
      for (const session of sessions.values()) session.close(CLOSE_CODES.goingAway, 'server shutting down');
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.terminate();
      }, SHUTDOWN_GRACE_MS);
      await Promise.all(closed);
      clearTimeout(timer);
    },
  };
}
