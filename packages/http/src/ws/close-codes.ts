/**
 * The close codes the server ends a WebSocket with (RFC 6455 §7.4; 4000-4999 are ours).
 * Clients decide from the code whether reconnecting can help.
 *
 * @example
 * socket.close(CLOSE_CODES.slowConsumer, 'slow consumer');
 */
export const CLOSE_CODES = {
  /** The server is shutting down (or the node stops serving): reconnect, resume with `since`. */
  goingAway: 1001,
  /** A message above the hard size limit (1 MiB): `ws` closes with this itself. */
  messageTooBig: 1009,
  /** The token was revoked or expired: reconnecting with the same token cannot succeed. */
  unauthorized: 4001,
  /** The client did not read fast enough; reconnect and resume with `since`. */
  slowConsumer: 4008,
} as const;
