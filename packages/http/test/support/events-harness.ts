/**
 * The events tests' harness: a core on a test storage behind a real listening server (the
 * WebSocket and SSE need real sockets), a logger that keeps its lines (tests wait for "slow
 * consumer" and friends), and a WebSocket client that queues what it receives.
 */
import { type Core, createCore, type EventLogConfig, type Logger, SYSTEM_PRINCIPAL } from '@proserver/core';
import { type BackendName, createTestStorage, ManualClock, waitUntil } from '@proserver/core/testing';
import { type RealtimeOptions, type RunningServer, startServer } from '@proserver/http';
import { WebSocket } from 'ws';

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

export interface EventsHarness {
  core: Core;
  clock: ManualClock;
  server: RunningServer;
  owner: string;
  logs: LogLine[];
  wsUrl: string;
  tokenWith(scopes: string[], expiresInDays?: number): Promise<{ id: string; secret: string }>;
  close(): Promise<void>;
}

/** Loopback must never go through a proxy. */
export function clearProxyEnv(): void {
  for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) {
    delete process.env[name];
  }
}

export async function startEventsServer(
  backend: BackendName,
  options: { realtime?: RealtimeOptions; events?: EventLogConfig } = {},
): Promise<EventsHarness> {
  clearProxyEnv();
  const clock = new ManualClock(new Date());
  const logs: LogLine[] = [];
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logs.push({ level, message, ...(fields ? { fields } : {}) });
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const core = createCore({
    storage: await createTestStorage(backend),
    clock,
    logger,
    kv: { sweepIntervalMs: 0 },
    ...(options.events ? { events: options.events } : {}),
  });
  const boot = await core.auth.bootstrap();
  if (!boot.secret) throw new Error('bootstrap on a fresh storage must return a secret');
  const server = await startServer({
    core,
    port: 0,
    hostname: '127.0.0.1',
    logger,
    ...(options.realtime ? { realtime: options.realtime } : {}),
  });
  return {
    core,
    clock,
    server,
    owner: boot.secret,
    logs,
    wsUrl: `${server.url.replace('http:', 'ws:')}/api/ws`,
    async tokenWith(scopes, expiresInDays = 30) {
      const { token, secret } = await core.tokens.create(SYSTEM_PRINCIPAL, { name: 'test', expiresInDays, scopes });
      return { id: token.id, secret };
    },
    async close() {
      await server.close();
      await core.close();
    },
  };
}

/** A server message, loosely typed. */
export type ServerMessage = { type: string; id?: unknown; seq?: number; event?: Record<string, unknown> } & Record<
  string,
  unknown
>;

export interface TestSocket {
  socket: WebSocket;
  /** Messages received and not yet taken by `next`, in order. */
  received: ServerMessage[];
  /** The next message (past ones not yet taken included) matching `predicate`. */
  next(predicate?: (message: ServerMessage) => boolean, what?: string): Promise<ServerMessage>;
  send(message: unknown): void;
  /** Resolves with the close code and reason once the socket closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a socket and resolves once it is open (rejects with the HTTP status if the upgrade is refused). */
export function openSocket(
  url: string,
  options: { token?: string; protocols?: string[]; autoPong?: boolean } = {},
): Promise<TestSocket> {
  const headers: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  const socket = new WebSocket(url, options.protocols ?? [], { headers, autoPong: options.autoPong ?? true });
  const received: ServerMessage[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('message', (data) => received.push(JSON.parse(data.toString())));
  const testSocket: TestSocket = {
    socket,
    received,
    closed,
    async next(predicate = () => true, what = 'a message') {
      let found: ServerMessage | undefined;
      await waitUntil(() => {
        for (let index = 0; index < received.length; index++) {
          const message = received[index] as ServerMessage;
          if (predicate(message)) {
            found = message;
            received.splice(index, 1);
            return true;
          }
        }
        return false;
      }, what);
      return found as ServerMessage;
    },
    send(message) {
      socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(testSocket));
    socket.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode }));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

/** The upgrade's HTTP status when it is refused. */
export async function refusedStatus(url: string, options: Parameters<typeof openSocket>[1]): Promise<number> {
  try {
    const socket = await openSocket(url, options);
    socket.socket.close();
    return 101;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}
