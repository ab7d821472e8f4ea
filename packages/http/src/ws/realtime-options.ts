/**
 * Limits of the real-time channels (WebSocket and SSE). Every field has a default; tests and
 * embedders shrink them, operators rarely need to.
 */

/**
 * Options of the WebSocket and SSE endpoints, passed as `createApp(core, { realtime })` or
 * `startServer({ core, port, realtime })`.
 *
 * @example
 * await startServer({ core, port: 3029, realtime: { heartbeatIntervalMs: 10_000 } });
 */
export interface RealtimeOptions {
  /**
   * A consumer whose unsent output passes this many bytes is disconnected (WebSocket close
   * 4008 "slow consumer"; SSE: a final `close` event) instead of being buffered without bound.
   * Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /** WebSocket ping frames this often; a socket that misses two pongs is terminated. Default 30 s. */
  heartbeatIntervalMs?: number;
  /** SSE keep-alive comments this often. Default 15 s. */
  sseHeartbeatIntervalMs?: number;
  /** Live subscriptions one socket may hold. Default 64. */
  maxSubscriptionsPerSocket?: number;
  /** Topics in one subscription (WebSocket, SSE or polling). Default 50. */
  maxTopics?: number;
  /** A client message above this size gets an `error` message (PAYLOAD_TOO_LARGE). Default 64 KiB. */
  maxMessageBytes?: number;
}

/** {@link RealtimeOptions} with every default applied. */
export type ResolvedRealtimeOptions = Required<RealtimeOptions>;

/** Default bound on a consumer's unsent output (4 MiB). */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Default WebSocket heartbeat interval (30 s). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

/**
 * A message above this size is not even read: `ws` closes the socket with 1009 ("message too
 * big"). Below it and above `maxMessageBytes`, the client gets an `error` message instead.
 */
export const HARD_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Applies defaults and checks the options (a bad option is a programming error: it throws).
 *
 * @example
 * resolveRealtimeOptions({ maxTopics: 10 }).maxBufferedBytes; // 4194304
 */
export function resolveRealtimeOptions(options: RealtimeOptions = {}): ResolvedRealtimeOptions {
  const positive = (name: keyof RealtimeOptions, value: number) => {
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`realtime.${name} must be a positive integer`);
    return value;
  };
  const maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes ?? 64 * 1024);
  if (maxMessageBytes > HARD_MAX_MESSAGE_BYTES) {
    throw new Error(`realtime.maxMessageBytes must be at most ${HARD_MAX_MESSAGE_BYTES}`);
  }
  return {
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES),
    heartbeatIntervalMs: positive('heartbeatIntervalMs', options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS),
    sseHeartbeatIntervalMs: positive('sseHeartbeatIntervalMs', options.sseHeartbeatIntervalMs ?? 15_000),
    maxSubscriptionsPerSocket: positive('maxSubscriptionsPerSocket', options.maxSubscriptionsPerSocket ?? 64),
    maxTopics: positive('maxTopics', options.maxTopics ?? 50),
    maxMessageBytes,
  };
}
