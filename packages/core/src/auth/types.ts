import type { Page } from '../pagination.js';

export type Role = 'owner' | 'member';

export interface User {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  createdAt: string;
}

/**
 * Who is calling. `system` is core used directly by an embedding app: it may do everything.
 * A token principal's `scopes` are already intersected with its creator's current role.
 */
export type Principal =
  | { kind: 'system' }
  | { kind: 'token'; tokenId: string; userId: string; role: Role; scopes: string[] };

export const SYSTEM_PRINCIPAL: Principal = { kind: 'system' };

export type TokenStatus = 'active' | 'expired' | 'revoked';

/** An application token as listed: never the secret, only its last four characters. */
export interface ApplicationToken {
  id: string;
  name: string;
  userId: string;
  last4: string;
  scopes: string[];
  status: TokenStatus;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  revokedAt: string | null;
  rotatedAt: string | null;
  /** While a rotation's grace period runs: when the previous secret stops working. */
  previousSecretExpiresAt: string | null;
}

/** Returned once, on creation and rotation: `secret` is never shown again. */
export interface IssuedToken {
  token: ApplicationToken;
  secret: string;
}

export interface CreateTokenInput {
  name: string;
  expiresInDays: number;
  scopes: string[];
}

/**
 * Application tokens (SPEC §2). Reached as `core.tokens`. Every method takes the acting
 * principal: a member manages only their own tokens, and nobody mints a token with more
 * power than they have.
 *
 * @example
 * const { secret } = await core.tokens.create(principal, {
 *   name: 'ci', expiresInDays: 30, scopes: ['kv:write:pipelines/*'],
 * });
 */
export interface TokenService {
  create(actor: Principal, input: CreateTokenInput): Promise<IssuedToken>;
  list(actor: Principal, options?: { cursor?: string; limit?: number }): Promise<Page<ApplicationToken>>;
  get(actor: Principal, id: string): Promise<ApplicationToken>;
  /** Revokes at once; revoking an already revoked token is a no-op that returns it. */
  revoke(actor: Principal, id: string): Promise<ApplicationToken>;
  /** New secret now; the old one keeps working for `graceSeconds` (0 = stops at once). */
  rotate(actor: Principal, id: string, options: { graceSeconds: number }): Promise<IssuedToken>;
}

export interface BootstrapResult {
  /** False when an owner already existed: nothing was created and no secret is returned. */
  created: boolean;
  owner: User;
  /** Present only when created and no bootstrap token was supplied. */
  secret?: string;
}

/**
 * Authentication and first start. Reached as `core.auth`.
 *
 * @example
 * const principal = await core.auth.authenticate(bearer, { ip: '10.0.0.7' });
 */
export interface AuthService {
  /**
   * Resolves a bearer secret to a principal. `UNAUTHENTICATED` for missing, garbled
   * (checksum), unknown or revoked tokens and deleted users; `TOKEN_EXPIRED` for expired ones.
   */
  authenticate(secret: string, context?: { ip?: string | null }): Promise<Principal>;
  /**
   * Creates the first owner and an owner token (`['*']`, the longest allowed expiry) when
   * no owner exists. With `bootstrapToken`, that exact value becomes the token's secret.
   */
  bootstrap(options?: { bootstrapToken?: string; tokenName?: string }): Promise<BootstrapResult>;
  /** Mints a token for the owner offline (the `proserver token create` command). */
  mintOwnerToken(input: CreateTokenInput): Promise<IssuedToken>;
}
