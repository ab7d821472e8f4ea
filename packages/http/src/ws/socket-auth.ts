/**
 * Who opens a WebSocket. Browsers cannot set headers on a WebSocket, so besides
 * `Authorization: Bearer <token>` the token may come as a subprotocol: the client offers
 * `["proserver.v1", "bearer.<token>"]` and the server answers `proserver.v1` only (the token
 * is never echoed back, logged or kept after authentication).
 */
import { ProServerError } from '@proserver/core';

/** The subprotocol of this API version; the server answers it whenever the client offers it. */
export const PROSERVER_SUBPROTOCOL = 'proserver.v1';
/** Subprotocol entries starting with this carry the bearer token. */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

const BEARER_HEADER = /^Bearer +(\S+) *$/i;

/**
 * The bearer secret of an upgrade request, from the `Authorization` header (which wins) or
 * the `Sec-WebSocket-Protocol` list. Throws 401 `UNAUTHENTICATED` when there is none or it is
 * malformed, and 400 `VALIDATION_FAILED` for a bearer subprotocol offered without
 * `proserver.v1` (the server could not answer a subprotocol without echoing the token).
 *
 * @example
 * socketBearer(undefined, 'proserver.v1, bearer.prs_abc'); // 'prs_abc'
 */
export function socketBearer(authorization: string | undefined, protocolHeader: string | undefined): string {
  if (authorization !== undefined && authorization.trim() !== '') {
    const secret = BEARER_HEADER.exec(authorization)?.[1];
    if (secret === undefined) {
      throw new ProServerError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
    }
    return secret;
  }
  const offered = (protocolHeader ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bearers = offered.filter((entry) => entry.toLowerCase().startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (bearers.length === 0) {
    throw new ProServerError(
      'UNAUTHENTICATED',
      `missing token: send "Authorization: Bearer <token>" or the subprotocols ["${PROSERVER_SUBPROTOCOL}", "bearer.<token>"]`,
    );
  }
  if (bearers.length > 1) {
    throw new ProServerError('UNAUTHENTICATED', 'offer exactly one "bearer.<token>" subprotocol');
  }
  if (!offered.includes(PROSERVER_SUBPROTOCOL)) {
    throw new ProServerError(
      'VALIDATION_FAILED',
      `offer the subprotocol "${PROSERVER_SUBPROTOCOL}" next to "bearer.<token>" (the server answers it)`,
    );
  }
  const secret = (bearers[0] as string).slice(BEARER_SUBPROTOCOL_PREFIX.length);
  if (secret === '') throw new ProServerError('UNAUTHENTICATED', 'the "bearer." subprotocol carries no token');
  return secret;
}
