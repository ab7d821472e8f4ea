/**
 * Application tokens (SPEC §2): create, list, get, revoke, rotate. Two rules shape it: a
 * token never mints more power than its holder has, and a member never learns that another
 * user's token exists.
 */
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, MAX_PAGE_LIMIT, type Page } from '../pagination.js';
import type { AuthStore, TokenRecord, UserRecord } from '../storage/ports.js';
import { isUnstorableText, parseInput } from '../validation.js';
import { actorIdOf } from './actor.js';
import { authorize, covers } from './scopes.js';
import { generateTokenSecret, hashTokenSecret, last4 } from './token-format.js';
import type { ApplicationToken, CreateTokenInput, Principal, TokenService, TokenStatus, User } from './types.js';
import { createTokenInputSchema, rotateTokenInputSchema } from './validation.js';

export interface TokenServiceOptions {
  store: AuthStore;
  clock: Clock;
  ids: Ids;
  /** Longest allowed token lifetime in days. */
  maxExpiryDays: number;
  /** Longest rotation grace period in seconds. */
  maxGraceSeconds: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * revoked if revoked, expired once `expiresAt <= now`, else active.
 *
 * @example
 * tokenStatus(record, clock.now()); // 'active'
 */
export function tokenStatus(token: TokenRecord, now: Date): TokenStatus {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/**
 * The listed form of a token: ISO times, derived status, never a secret or a hash.
 *
 * @example
 * toApplicationToken(record, clock.now()).status;
 */
export function toApplicationToken(token: TokenRecord, now: Date): ApplicationToken {
  const graceRunning =
    token.previousSecretExpiresAt !== null && token.previousSecretExpiresAt.getTime() > now.getTime();
  return {
    id: token.id,
    name: token.name,
    userId: token.userId,
    last4: token.last4,
    scopes: [...token.scopes],
    status: tokenStatus(token, now),
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: token.lastUsedIp,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    rotatedAt: token.rotatedAt?.toISOString() ?? null,
    previousSecretExpiresAt: graceRunning ? (token.previousSecretExpiresAt?.toISOString() ?? null) : null,
  };
}

/**
 * The public form of a user record (ISO times, no deletion marker).
 *
 * @example
 * toUser(await store.findOwner());
 */
export function toUser(user: UserRecord): User {
  return { id: user.id, name: user.name, email: user.email, role: user.role, createdAt: user.createdAt.toISOString() };
}

/**
 * Validates a create input, including the configured longest lifetime; removes duplicate scopes.
 *
 * @example
 * parseCreateTokenInput({ name: 'ci', expiresInDays: 30, scopes: ['kv:read'] }, 365);
 */
export function parseCreateTokenInput(input: unknown, maxExpiryDays: number): CreateTokenInput {
  const parsed = parseInput(createTokenInputSchema, input, 'token');
  if (parsed.expiresInDays > maxExpiryDays) {
    const message = `must be at most ${maxExpiryDays} days`;
    throw new ProServerError('VALIDATION_FAILED', `token is not valid (expiresInDays: ${message})`, {
      errors: [{ path: 'expiresInDays', message }],
    });
  }
  return { ...parsed, scopes: [...new Set(parsed.scopes)] };
}

/**
 * A new token record and its secret (the secret is not part of the record: only its hash).
 *
 * @example
 * const { record, secret } = newTokenRecord({ ids, now, userId, input });
 */
export function newTokenRecord(options: {
  ids: Ids;
  now: Date;
  userId: string;
  input: CreateTokenInput;
  secret?: string;
}): { record: TokenRecord; secret: string } {
  const secret = options.secret ?? generateTokenSecret();
  const record: TokenRecord = {
    id: options.ids.next('tok'),
    name: options.input.name,
    userId: options.userId,
    last4: last4(secret),
    scopes: options.input.scopes,
    secretHash: hashTokenSecret(secret),
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    createdAt: options.now,
    expiresAt: new Date(options.now.getTime() + options.input.expiresInDays * DAY_MS),
    lastUsedAt: null,
    lastUsedIp: null,
    revokedAt: null,
    rotatedAt: null,
  };
  return { record, secret };
}

/** Throws FORBIDDEN naming the first scope `actor` does not hold (minting never escalates). */
function assertMayMint(actor: Principal, scopes: readonly string[]): void {
  if (actor.kind === 'system') return;
  const missing = scopes.find((scope) => !covers(actor.scopes, scope));
  if (missing !== undefined) {
    throw new ProServerError('FORBIDDEN', `cannot grant scope ${missing}: the caller does not hold it`, {
      details: { scope: missing },
    });
  }
}

/** Only the owner role sees every user's tokens. */
function visibleToActor(actor: Principal, token: TokenRecord): boolean {
  return actor.kind === 'system' || actor.role === 'owner' || token.userId === actor.userId;
}

function notFound(id: string): ProServerError {
  return new ProServerError('NOT_FOUND', `application token ${id} does not exist`, { details: { id } });
}

function parseLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    const message = `must be an integer from 1 to ${MAX_PAGE_LIMIT}`;
    throw new ProServerError('VALIDATION_FAILED', `limit ${message}`, { errors: [{ path: 'limit', message }] });
  }
  return limit;
}

const isIdCursor = (value: Record<string, unknown>): value is { id: string } => typeof value.id === 'string';

/**
 * The token service behind `core.tokens`. Every method needs `tokens:write` (there is no
 * separate read scope: listing tokens is token administration).
 *
 * @example
 * const tokens = createTokenService({ store, clock, ids, maxExpiryDays: 365, maxGraceSeconds: 604800 });
 * const { secret } = await tokens.create(SYSTEM_PRINCIPAL, { name: 'ci', expiresInDays: 30, scopes: ['kv:read'] });
 */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const { store, clock, ids, maxExpiryDays, maxGraceSeconds } = options;

  async function ownerId(actor: Principal): Promise<string> {
    if (actor.kind === 'token') return actor.userId;
    const owner = await store.findOwner();
    if (!owner) {
      throw new ProServerError('VALIDATION_FAILED', 'no owner exists yet: bootstrap the server first', {
        errors: [{ path: '', message: 'no owner to own the token' }],
      });
    }
    return owner.id;
  }

  async function visibleToken(actor: Principal, id: string): Promise<TokenRecord> {
    authorize(actor, 'tokens:write');
    const token = typeof id === 'string' && !isUnstorableText(id) ? await store.getToken(id) : null;
    if (!token || !visibleToActor(actor, token)) throw notFound(String(id));
    return token;
  }

  return {
    async create(actor, input) {
      authorize(actor, 'tokens:write');
      const parsed = parseCreateTokenInput(input, maxExpiryDays);
      assertMayMint(actor, parsed.scopes);
      const userId = await ownerId(actor);
      const now = clock.now();
      const { record, secret } = newTokenRecord({ ids, now, userId, input: parsed });
      await store.insertToken(record, { actor: actorIdOf(actor), ids });
      return { token: toApplicationToken(record, now), secret };
    },

    async list(actor, listOptions = {}) {
      authorize(actor, 'tokens:write');
      const limit = parseLimit(listOptions.limit);
      const after = listOptions.cursor === undefined ? undefined : decodeCursor(listOptions.cursor, isIdCursor).id;
      const userId = actor.kind === 'token' && actor.role !== 'owner' ? actor.userId : undefined;
      const rows = await store.listTokens({
        limit: limit + 1,
        ...(userId === undefined ? {} : { userId }),
        ...(after === undefined ? {} : { afterId: after }),
      });
      const now = clock.now();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((row) => toApplicationToken(row, now)),
        nextCursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null,
      } satisfies Page<ApplicationToken>;
    },

    async get(actor, id) {
      return toApplicationToken(await visibleToken(actor, id), clock.now());
    },

    async revoke(actor, id) {
      await visibleToken(actor, id);
      const revoked = await store.revokeToken(id, clock.now(), { actor: actorIdOf(actor), ids });
      if (!revoked) throw notFound(id);
      return toApplicationToken(revoked, clock.now());
    },

    async rotate(actor, id, rotateOptions) {
      const { graceSeconds } = parseInput(rotateTokenInputSchema, rotateOptions, 'rotation');
      if (graceSeconds > maxGraceSeconds) {
        const message = `must be at most ${maxGraceSeconds} seconds`;
        throw new ProServerError('VALIDATION_FAILED', `rotation is not valid (graceSeconds: ${message})`, {
          errors: [{ path: 'graceSeconds', message }],
        });
      }
      const token = await visibleToken(actor, id);
      const now = clock.now();
      const status = tokenStatus(token, now);
      if (status !== 'active') {
        throw new ProServerError('CONFLICT', `application token ${id} is ${status} and cannot be rotated`, {
          details: { id, status },
        });
      }
      // The new secret carries the token's scopes: only someone who holds them may receive it.
      assertMayMint(actor, token.scopes);
      const secret = generateTokenSecret();
      const rotated = await store.rotateToken(
        id,
        {
          secretHash: hashTokenSecret(secret),
          last4: last4(secret),
          previousSecretExpiresAt: graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null,
          rotatedAt: now,
        },
        { actor: actorIdOf(actor), ids },
      );
      if (!rotated) {
        throw new ProServerError('CONFLICT', `application token ${id} was revoked and cannot be rotated`, {
          details: { id, status: 'revoked' },
        });
      }
      return { token: toApplicationToken(rotated, now), secret };
    },
  };
}
