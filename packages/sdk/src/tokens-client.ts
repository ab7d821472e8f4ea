import { paginate } from './pagination.js';
import type { Transport } from './transport.js';
import type { ApplicationToken, CreateTokenInput, IssuedToken, Page, PageOptions, RotateTokenInput } from './types.js';

const BASE = '/application-tokens';

/**
 * Application tokens (`/api/application-tokens`, SPEC §2). Reached as `client.tokens`.
 * Secrets come back only from `create` and `rotate`: store them at once.
 *
 * @example
 * const { token, secret } = await client.tokens.create({ name: 'ci', expiresInDays: 30, scopes: ['kv:read'] });
 * await client.tokens.rotate(token.id, { graceSeconds: 600 });
 * await client.tokens.revoke(token.id);
 */
export interface TokensClient {
  /** Issues a token; the secret is in the answer and nowhere else. */
  create(input: CreateTokenInput): Promise<IssuedToken>;
  /** One page of the caller's tokens (all tokens for an owner). */
  list(options?: PageOptions): Promise<Page<ApplicationToken>>;
  /** Every page, following the cursors (starting at `options.cursor` if given). */
  listAll(options?: PageOptions): AsyncIterable<Page<ApplicationToken>>;
  get(id: string): Promise<ApplicationToken>;
  /** Revokes at once and answers the token with status `revoked`. */
  revoke(id: string): Promise<ApplicationToken>;
  /** A new secret now; the old one keeps working for `graceSeconds`. */
  rotate(id: string, input: RotateTokenInput): Promise<IssuedToken>;
}

/** Builds the application-token section of a client. */
export function createTokensClient(transport: Transport): TokensClient {
  const tokenPath = (id: string) => `${BASE}/${encodeURIComponent(id)}`;
  const list = (options: PageOptions = {}) =>
    transport.json<Page<ApplicationToken>>({
      method: 'GET',
      path: BASE,
      query: { cursor: options.cursor, limit: options.limit },
    });
  return {
    create: (input) => transport.json({ method: 'POST', path: BASE, json: input }),
    list,
    listAll: (options = {}) => paginate((cursor) => list({ ...options, cursor }), options.cursor),
    get: (id) => transport.json({ method: 'GET', path: tokenPath(id) }),
    revoke: (id) => transport.json({ method: 'DELETE', path: tokenPath(id) }),
    rotate: (id, input) => transport.json({ method: 'POST', path: `${tokenPath(id)}/rotate`, json: input }),
  };
}
