/**
 * `startServer`: the app on a real socket (@hono/node-server). Used by the `proserver`
 * command and by tests that need a listening server.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Core } from '@proserver/core';
import { type CreateAppOptions, createApp } from './app.js';
import { resolveRealtimeOptions } from './ws/realtime-options.js';
import { createWebSocketSupport } from './ws/websocket-support.js';

/** What {@link startServer} needs: the core to serve, where to listen, and the app's options. */
export interface StartServerOptions extends Omit<CreateAppOptions, 'webSockets'> {
  core: Core;
  /** 0 picks a free port (the result says which). */
  port: number;
  /** Interface to bind (default: all). */
  hostname?: string;
}

/** A listening server, as {@link startServer} resolves it. */
export interface RunningServer {
  /** `http://localhost:<port>` (or the bound hostname when it is a specific one). */
  url: string;
  port: number;
  /**
   * Stops accepting, closes WebSockets (1001), ends idle keep-alive connections, waits for
   * open requests. Does not close core.
   */
  close(): Promise<void>;
}

const ANY_INTERFACE = new Set(['0.0.0.0', '::', '']);

/**
 * Starts listening; resolves once the port is bound (rejects if it cannot be).
 *
 * @example
 * const server = await startServer({ core, port: 0 });
 * await fetch(`${server.url}/health`);
 * await server.close();
 */
export function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { core, port, hostname, ...appOptions } = options;
  const webSockets = createWebSocketSupport(
    core,
    resolveRealtimeOptions(appOptions.realtime),
    appOptions.logger ?? core.logger,
  );
  const app = createApp(core, { ...appOptions, webSockets });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, ...(hostname ? { hostname } : {}) });
    webSockets.inject(server, app);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host = hostname === undefined || ANY_INTERFACE.has(hostname) ? 'localhost' : hostname;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${urlHost}:${address.port}`,
        port: address.port,
        close() {
          closing ??= new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            if ('closeIdleConnections' in server) server.closeIdleConnections();
            void webSockets.close();
          });
          return closing;
        },
      });
    });
  });
}
