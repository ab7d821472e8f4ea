import type { JsonValue } from '../kv/types.js';
import { newEvent } from '../storage/change-context.js';
import type { ChangeContext, NewEvent, TokenRecord } from '../storage/ports.js';

/** The application-token event types (SPEC §4). */
export const TOKEN_EVENTS = { created: 'token.created', rotated: 'token.rotated', revoked: 'token.revoked' } as const;

/**
 * A token event: `data` says which token and whose (`{id, name, userId, scopes, expiresAt}`,
 * plus the revocation or rotation time), never a secret, a hash or its last characters.
 * Subject: the token id.
 *
 * @example
 * tokenEvent(change, TOKEN_EVENTS.revoked, record, now);
 */
export function tokenEvent(
  change: ChangeContext,
  type: (typeof TOKEN_EVENTS)[keyof typeof TOKEN_EVENTS],
  token: TokenRecord,
  at: Date,
): NewEvent {
  const data: Record<string, JsonValue> = {
    id: token.id,
    name: token.name,
    userId: token.userId,
    scopes: [...token.scopes],
    expiresAt: token.expiresAt.toISOString(),
  };
  if (type === TOKEN_EVENTS.revoked) data.revokedAt = token.revokedAt?.toISOString() ?? at.toISOString();
  if (type === TOKEN_EVENTS.rotated) {
    data.rotatedAt = token.rotatedAt?.toISOString() ?? at.toISOString();
    data.previousSecretExpiresAt = token.previousSecretExpiresAt?.toISOString() ?? null;
  }
  return newEvent(change, type, token.id, data, at);
}
