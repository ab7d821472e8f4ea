/**
 * Events (SPEC §4), reached as `client.events`: live subscriptions over the WebSocket, and
 * polling for clients that cannot keep a socket open.
 */
import { ApiError } from './errors.js';
import type {
  EventPage,
  EventSubscriptionHandle,
  ListEventsOptions,
  ProServerEvent,
  SubscribeOptions,
  WebSocketConstructor,
} from './event-types.js';
import { openSubscription } from './events-subscription.js';
import type { ClientOptions, Transport } from './transport.js';

/**
 * `client.events`.
 *
 * @example
 * const sub = client.events.subscribe(['tasks', 'kv:pipelines/*'], (event) => console.log(event.seq, event.type), {
 *   since: lastSavedSeq,
 *   onError: (error) => console.warn(error),
 * });
 * // … later
 * sub.close();
 */
export interface EventsClient {
  /**
   * Subscribes over `GET /api/ws`, reconnecting and resuming on its own. Needs a WebSocket:
   * the client's `WebSocket` option, this call's, or the global one (browsers, Node ≥ 22);
   * without any it throws `WEBSOCKET_UNAVAILABLE` (status 0).
   */
  subscribe(
    topics: string[],
    handler: (event: ProServerEvent) => void,
    options?: SubscribeOptions,
  ): EventSubscriptionHandle;
  /** `GET /api/events`: one page of matching events after `after`. */
  list(options: ListEventsOptions): Promise<EventPage>;
  /** True when `subscribe` has a WebSocket to use. */
  readonly webSocketAvailable: boolean;
}

/** The global WebSocket when there is one (browsers, Node ≥ 22), looked up at call time. */
function globalWebSocket(): WebSocketConstructor | undefined {
  const candidate = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof candidate === 'function' ? (candidate as WebSocketConstructor) : undefined;
}

/**
 * The WebSocket URL of the API: `http(s)://host/api` → `ws(s)://host/api/ws`.
 *
 * @example
 * webSocketUrl('https://proserver.example.com', '/api'); // 'wss://proserver.example.com/api/ws'
 */
export function webSocketUrl(baseUrl: string, basePath = '/api'): string {
  const api = `${baseUrl.replace(/\/+$/, '')}/${basePath.replace(/^\/+|\/+$/g, '')}`;
  return `${api.replace(/^http(s?):/i, 'ws$1:')}/ws`;
}

/** Builds the events section of a client. */
export function createEventsClient(transport: Transport, options: ClientOptions): EventsClient {
  const url = webSocketUrl(options.baseUrl, options.basePath);
  const getToken = async () => (options.getToken ? await options.getToken() : options.token);
  return {
    subscribe(topics, handler, subscribeOptions = {}) {
      const WebSocket = subscribeOptions.WebSocket ?? options.WebSocket ?? globalWebSocket();
      if (WebSocket === undefined) {
        throw new ApiError({
          status: 0,
          code: 'WEBSOCKET_UNAVAILABLE',
          detail: 'no WebSocket: pass createClient({ WebSocket }) (e.g. from the "ws" package on Node 20)',
        });
      }
      return openSubscription({
        url,
        getToken,
        refreshable: options.getToken !== undefined,
        WebSocket,
        topics: [...topics],
        handler,
        options: subscribeOptions,
      });
    },
    list: (listOptions) =>
      transport.json({
        method: 'GET',
        path: '/events',
        query: { topics: listOptions.topics.join(','), after: listOptions.after, limit: listOptions.limit },
      }),
    get webSocketAvailable() {
      return (options.WebSocket ?? globalWebSocket()) !== undefined;
    },
  };
}
