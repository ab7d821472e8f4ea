/**
 * One HTTP exchange with the server: URL building, headers (token, user agent), and turning
 * every failure into an {@link ApiError}. Uses only `fetch`, so it runs in Node and browsers.
 */
import { type ApiError, errorFromResponse, invalidResponse, networkError } from './errors.js';
import type { WebSocketConstructor } from './event-types.js';

/**
 * The `fetch` the client calls: the global one, a custom one, or an in-process app's
 * (`(input, init) => app.fetch(new Request(input, init))`, which may answer synchronously).
 *
 * @example
 * const viaApp: FetchLike = (input, init) => app.fetch(new Request(input, init));
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Response | Promise<Response>;

/**
 * How to reach the server.
 *
 * @example
 * const options: ClientOptions = { baseUrl: 'https://proserver.example.com', token: process.env.PROSERVER_TOKEN };
 */
export interface ClientOptions {
  /** The server's root URL (`/health` lives there), e.g. `https://proserver.example.com`. */
  baseUrl: string;
  /** Where the API is mounted below `baseUrl` (default `/api`; the server's `basePath`, e.g. `/sfp/api`). */
  basePath?: string;
  /** A bearer secret (application token or access token). */
  token?: string;
  /** Called before every request that needs authentication; wins over `token`. */
  getToken?: () => string | Promise<string>;
  /** Replaces the global `fetch` (tests, custom agents, an in-process app). */
  fetch?: FetchLike;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** Sent as `User-Agent` (browsers may ignore it). */
  userAgent?: string;
  /**
   * The WebSocket for `events.subscribe` and `tasks.wait` (default: the global one, in
   * browsers and Node ≥ 22; on Node 20 pass `WebSocket` from the `ws` package).
   */
  WebSocket?: WebSocketConstructor;
}

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | undefined>;

/** One request. `path` is relative to the API's base path (`''` for `GET /api` itself). */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** `path` is relative to `baseUrl` instead (health). */
  outsideApi?: boolean;
  query?: Query;
  /** Serialised as JSON. */
  json?: unknown;
  /** A ready body with its content type (NDJSON import). */
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
  /** False for the routes that need no token (health, ping). */
  auth?: boolean;
}

/** The request function shared by the client's sections. */
export interface Transport {
  /** Sends the request; answers only 2xx responses (body unread), throws an ApiError otherwise. */
  send(spec: RequestSpec, okStatuses?: readonly number[]): Promise<Response>;
  /** Sends the request and parses the JSON answer (`undefined` for 204). */
  json<T>(spec: RequestSpec): Promise<T>;
}

/** Builds the transport for one client. */
export function createTransport(options: ClientOptions): Transport {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const apiUrl = `${baseUrl}/${(options.basePath ?? '/api').replace(/^\/+|\/+$/g, '')}`;
  // Calls the global fetch at call time and unbound from any object: browsers throw
  // "Illegal invocation" when fetch is called as a method of something other than window.
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function headersFor(spec: RequestSpec): Promise<Headers> {
    const headers = new Headers(options.headers);
    if (options.userAgent) headers.set('user-agent', options.userAgent);
    headers.set('accept', 'application/json');
    if (spec.json !== undefined) headers.set('content-type', 'application/json');
    if (spec.raw) headers.set('content-type', spec.raw.contentType);
    for (const [name, value] of Object.entries(spec.headers ?? {})) headers.set(name, value);
    if (spec.auth !== false) {
      const token = options.getToken ? await options.getToken() : options.token;
      if (token) headers.set('authorization', `Bearer ${token}`);
    }
    return headers;
  }

  async function send(spec: RequestSpec, okStatuses?: readonly number[]): Promise<Response> {
    const init: RequestInit = { method: spec.method, headers: await headersFor(spec) };
    if (spec.json !== undefined) init.body = JSON.stringify(spec.json);
    else if (spec.raw) init.body = spec.raw.body;
    const url = urlFor(spec.outsideApi ? baseUrl : apiUrl, spec.path, spec.query);
    let response: Response;
    try {
      response = await fetchImpl(url, init);
    } catch (cause) {
      throw networkError(cause, `${spec.method} ${url} failed: ${describe(cause)}`);
    }
    if (response.ok || okStatuses?.includes(response.status)) return response;
    throw await errorFromResponse(response);
  }

  return {
    send,
    async json<T>(spec: RequestSpec): Promise<T> {
      const response = await send(spec);
      return (await readJson(response)) as T;
    },
  };
}

/** Parses a response body as JSON; `undefined` for an empty 204. */
export async function readJson(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    throw networkError(cause, `reading the response failed: ${describe(cause)}`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw invalidResponse(response, 'the server answered with a body that is not JSON', cause) satisfies ApiError;
  }
}

function urlFor(base: string, path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(name, String(value));
  }
  const search = params.toString();
  return `${base}${path}${search ? `?${search}` : ''}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
