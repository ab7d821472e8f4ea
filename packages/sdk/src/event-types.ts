/**
 * The wire types of the event log (SPEC §4) as the SDK sees them, and the minimal shape of a
 * WebSocket the SDK can use (the browser's, Node 22's global one, or the `ws` package's).
 */
import type { JsonValue } from './types.js';

/**
 * One event of the log. `seq` is strictly increasing; resume from the last one you handled.
 *
 * @example
 * { seq: 812, id: 'evt_…', type: 'task.progress', subject: 'task_…', data: { percent: 50 }, actor: 'tok_…', at: '2026-03-01T12:00:00.000Z' }
 */
export interface ProServerEvent {
  seq: number;
  id: string;
  type: string;
  subject: string;
  data: JsonValue;
  /** The acting principal's id (`tok_…`), `system`, or null. */
  actor: string | null;
  at: string;
}

/**
 * `GET /api/events` (polling): pass `nextAfter` as the next `after`.
 *
 * @example
 * const page: EventPage = await client.events.list({ topics: ['tasks'], after: 0 });
 */
export interface EventPage {
  items: ProServerEvent[];
  nextAfter: number;
}

/**
 * Options of `client.events.list`.
 *
 * @example
 * await client.events.list({ topics: ['kv:pipelines/*'], after: 120, limit: 100 });
 */
export interface ListEventsOptions {
  /** Topics such as `tasks`, `task:task_…`, `kv:pipelines/*`, `docs:projects/**`, `events:custom.*`. */
  topics: string[];
  /** Only events with a higher seq (default: the oldest retained event). */
  after?: number;
  /** 1 to 1000 (default 50). */
  limit?: number;
}

/** What the SDK needs of a WebSocket object (a subset of the browser's WebSocket). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: (event: unknown) => void): void;
  addEventListener(type: 'message', listener: (event: { data?: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code?: number; reason?: string }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string; error?: unknown }) => void): void;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers and Node ≥ 22, or `WebSocket`
 * from the `ws` package on Node 20.
 *
 * @example
 * import WebSocket from 'ws';
 * const client = createClient({ baseUrl, token, WebSocket });
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Options of `client.events.subscribe`.
 *
 * @example
 * client.events.subscribe(['tasks'], (event) => console.log(event.seq, event.type), { since: 120, onError: console.warn });
 */
export interface SubscribeOptions {
  /** Replay every matching event after this seq first (`EVENTS_EXPIRED` if it is older than retention). */
  since?: number;
  /**
   * Told about every problem: an {@link ApiError} for a lost connection (a reconnect follows),
   * or for a refusal that ends the subscription (`EVENTS_EXPIRED`, `VALIDATION_FAILED`,
   * `UNAUTHENTICATED`, `TOKEN_EXPIRED`, `FORBIDDEN`; then `ended` is true); or whatever the
   * handler threw.
   */
  onError?: (error: unknown) => void;
  /** Called each time the server confirms the subscription (first connect and every reconnect). */
  onSubscribed?: (info: { seq: number | undefined }) => void;
  /** Overrides the client's WebSocket constructor for this subscription. */
  WebSocket?: WebSocketConstructor;
}

/**
 * A live subscription. It reconnects by itself (backoff with jitter) and resumes after the
 * last event it delivered, so the handler sees every event once, in seq order.
 *
 * @example
 * const sub = client.events.subscribe(['task:task_…'], (event) => console.log(event.type));
 * sub.close();
 */
export interface EventSubscriptionHandle {
  /** The seq of the last event delivered (or where the subscription started); undefined until known. */
  readonly lastSeq: number | undefined;
  /** True once the subscription is over: closed by you, or refused by the server (see `onError`). */
  readonly ended: boolean;
  /** Stops for good: no more events, no reconnect. */
  close(): void;
}
