import type { Principal } from './types.js';

/**
 * The id recorded as the `actor` of a change's events: the token id of a token principal,
 * `system` for core used directly (or when no principal is given).
 *
 * @example
 * actorIdOf({ kind: 'token', tokenId: 'tok_1', userId: 'usr_1', role: 'member', scopes: [] }); // 'tok_1'
 */
export function actorIdOf(principal: Principal | undefined): string {
  return principal?.kind === 'token' ? principal.tokenId : 'system';
}
