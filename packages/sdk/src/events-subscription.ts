/**
 * One reconnecting WebSocket subscription (SPEC §4). The token travels as the subprotocol
 * `bearer.<token>` next to `proserver.v1`, the one way that works in browsers as well as in
 * Node. After a lost connection it waits (exponential backoff with jitter), reconnects with
 * a fresh token, and subscribes again with `since` = the last seq it delivered, so nothing is
 * missed and nothing is delivered twice.
 */
import { ApiError } from './errors.js';
import type {
  EventSubscriptionHandle,
  ProServerEvent,
  SubscribeOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './event-types.js';

/** First reconnect delay; it doubles per failed attempt up to {@link MAX_RECONNECT_DELAY_MS}. */
export const INITIAL_RECONNECT_DELAY_MS = 250;
/** Longest wait between reconnect attempts. */
export const MAX_RECONNECT_DELAY_MS = 30_000;

/** The server's close codes that mean "this token will not be let in again". */
const CLOSE_UNAUTHORIZED = 4001;
const SUBSCRIPTION_ID = 'sdk';

/** What one subscription needs from the client. */
export interface SubscriptionConfig {
  /** `ws(s)://…/api/ws`. */
  url: string;
  getToken: () => Promise<string | undefined>;
  /** True when `getToken` can hand out a new token (then an expired one is worth a reconnect). */
  refreshable: boolean;
  WebSocket: WebSocketConstructor;
  topics: string[];
  handler: (event: ProServerEvent) => void;
  options: SubscribeOptions;
}

/**
 * Opens the subscription; it runs until `close()` or a refusal from the server.
 *
 * @example
 * const sub = openSubscription({ url, getToken, refreshable: false, WebSocket, topics: ['tasks'], handler, options: {} });
 */
export function openSubscription(config: SubscriptionConfig): EventSubscriptionHandle {
  const { options } = config;
  let lastSeq = options.since;
  let ended = false;
  let socket: WebSocketLike | undefined;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An onError that throws must not break the subscription.
    }
  };

  const end = (error?: ApiError) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    const open = socket;
    socket = undefined;
    open?.close(1000, 'done');
    if (error) report(error);
  };

  const scheduleReconnect = (why: string) => {
    if (ended) return;
    const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, INITIAL_RECONNECT_DELAY_MS * 2 ** Math.min(failures, 16));
    // "Equal jitter": half the ceiling plus a random half, so a fleet of clients spreads out.
    const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    failures += 1;
    report(new ApiError({ status: 0, code: 'NETWORK_ERROR', detail: `${why}; reconnecting in ${delayMs} ms` }));
    timer = setTimeout(() => void connect(), delayMs);
  };

  const onMessage = (data: unknown) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (message.type === 'event' && message.id === SUBSCRIPTION_ID) {
      const seq = message.seq;
      if (typeof seq !== 'number' || (lastSeq !== undefined && seq <= lastSeq)) return;
      lastSeq = seq;
      try {
        config.handler(message.event as ProServerEvent);
      } catch (error) {
        report(error);
      }
    } else if (message.type === 'subscribed' && message.id === SUBSCRIPTION_ID) {
      failures = 0;
      if (lastSeq === undefined && typeof message.seq === 'number') lastSeq = message.seq;
      options.onSubscribed?.({ seq: lastSeq });
    } else if (message.type === 'error') {
      const error = new ApiError({
        status: 0,
        code: typeof message.code === 'string' ? message.code : 'INVALID_RESPONSE',
        detail: typeof message.message === 'string' ? message.message : 'the server reported an error',
      });
      // An error about our subscription is a refusal (bad topics, expired since): final.
      if (message.id === SUBSCRIPTION_ID) end(error);
      else report(error);
    }
  };

  const connect = async () => {
    if (ended) return;
    let token: string | undefined;
    try {
      token = await config.getToken();
    } catch (error) {
      report(error);
      scheduleReconnect('getToken failed');
      return;
    }
    if (ended) return;
    const protocols = token ? ['proserver.v1', `bearer.${token}`] : ['proserver.v1'];
    let current: WebSocketLike;
    try {
      current = new config.WebSocket(config.url, protocols);
    } catch (error) {
      end(new ApiError({ status: 0, code: 'NETWORK_ERROR', detail: `cannot open ${config.url}`, cause: error }));
      return;
    }
    socket = current;
    let lastProblem = '';
    current.addEventListener('open', () => {
      if (socket !== current) return;
      const since = lastSeq === undefined ? {} : { since: lastSeq };
      current.send(JSON.stringify({ type: 'subscribe', id: SUBSCRIPTION_ID, topics: config.topics, ...since }));
    });
    current.addEventListener('message', (event) => {
      if (socket === current) onMessage(event.data);
    });
    current.addEventListener('error', (event) => {
      lastProblem = event.message ?? (event.error instanceof Error ? event.error.message : '');
    });
    current.addEventListener('close', (event) => {
      if (socket !== current) return;
      socket = undefined;
      const code = event.code ?? 1006;
      const reason = event.reason ?? '';
      // A refused handshake cannot say why in a browser; `ws` (Node) reports the HTTP status.
      if (!config.refreshable && /\b401\b/.test(lastProblem)) {
        end(
          new ApiError({
            status: 401,
            code: 'UNAUTHENTICATED',
            detail: `the server refused the token: ${lastProblem}`,
          }),
        );
        return;
      }
      if (code === CLOSE_UNAUTHORIZED && !(reason === 'token expired' && config.refreshable)) {
        const expired = reason === 'token expired';
        end(
          new ApiError({
            status: 401,
            code: expired ? 'TOKEN_EXPIRED' : 'UNAUTHENTICATED',
            detail: `the server closed the subscription: ${reason || 'token no longer valid'}`,
          }),
        );
        return;
      }
      const why = [`connection closed (${code}${reason ? ` ${reason}` : ''})`, lastProblem].filter(Boolean).join(': ');
      scheduleReconnect(why);
    });
  };

  void connect();
  return {
    get lastSeq() {
      return lastSeq;
    },
    get ended() {
      return ended;
    },
    close: () => end(),
  };
}
