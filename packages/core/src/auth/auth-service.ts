/**
 * Authentication of bearer secrets and the first start (bootstrap of the owner). The format
 * checks run before any lookup, so garbage and typos never cost a query.
 */
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import type { Logger } from '../logger.js';
import type { AuthStore, TokenRecord, UserRecord } from '../storage/ports.js';
import { parseInput } from '../validation.js';
import { ALL_SCOPES, effectiveScopes } from './scopes.js';
import { hashTokenSecret, hasValidChecksum, TOKEN_PREFIX } from './token-format.js';
import { newTokenRecord, parseCreateTokenInput, toApplicationToken, toUser } from './token-service.js';
import type { AuthService, BootstrapResult, Principal } from './types.js';
import { bootstrapTokenSchema, createTokenInputSchema, isForeignFormatSecret } from './validation.js';

export interface AuthServiceOptions {
  store: AuthStore;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  maxExpiryDays: number;
  maxGraceSeconds: number;
}

/**
 * A token used again within this time from the same IP is not written again, so a busy
 * token does not cost a write per request.
 */
export const TOUCH_INTERVAL_MS = 60_000;

export const DEFAULT_BOOTSTRAP_TOKEN_NAME = 'owner bootstrap token';

function unauthenticated(message: string): ProServerError {
  return new ProServerError('UNAUTHENTICATED', message);
}

function newOwner(ids: Ids, now: Date): UserRecord {
  return { id: ids.next('usr'), name: 'owner', email: null, role: 'owner', createdAt: now, deletedAt: null };
}

function needsTouch(token: TokenRecord, now: Date, ip: string | null): boolean {
  if (token.lastUsedAt === null) return true;
  if (now.getTime() - token.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) return true;
  return ip !== null && ip !== token.lastUsedIp;
}

const bootstrapNameSchema = createTokenInputSchema.shape.name;

/**
 * The service behind `core.auth`.
 *
 * @example
 * const auth = createAuthService({ store, clock, ids, logger, maxExpiryDays: 365, maxGraceSeconds: 604800 });
 * const { secret } = await auth.bootstrap(); // first start: print `secret` once
 * const principal = await auth.authenticate(secret!, { ip: '127.0.0.1' });
 */
export function createAuthService(options: AuthServiceOptions): AuthService {
  const { store, clock, ids, logger, maxExpiryDays } = options;

  async function recordUse(token: TokenRecord, now: Date, ip: string | null): Promise<void> {
    if (!needsTouch(token, now, ip)) return;
    try {
      await store.touchToken(token.id, now, ip);
    } catch (error) {
      // A failed bookkeeping write must not fail the request it belongs to.
      logger.warn('could not record application token use', {
        tokenId: token.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  return {
    async authenticate(secret, context = {}) {
      if (typeof secret !== 'string' || secret.length === 0) throw unauthenticated('missing bearer token');
      const wellFormed = secret.startsWith(TOKEN_PREFIX) ? hasValidChecksum(secret) : isForeignFormatSecret(secret);
      if (!wellFormed) throw unauthenticated('malformed token');
      const now = clock.now();
      const found = await store.findTokenBySecretHash(hashTokenSecret(secret), now);
      if (!found) throw unauthenticated('unknown token');
      const { token, user } = found;
      if (token.revokedAt) throw unauthenticated('token revoked');
      if (token.expiresAt.getTime() <= now.getTime()) {
        throw new ProServerError('TOKEN_EXPIRED', 'token expired', { details: { tokenId: token.id } });
      }
      if (user.deletedAt) throw unauthenticated("the token's user no longer exists");
      await recordUse(token, now, context.ip ?? null);
      const principal: Principal = {
        kind: 'token',
        tokenId: token.id,
        userId: user.id,
        role: user.role,
        scopes: effectiveScopes(token.scopes, user.role),
      };
      return principal;
    },

    async bootstrap(bootstrapOptions = {}): Promise<BootstrapResult> {
      const given =
        bootstrapOptions.bootstrapToken === undefined
          ? undefined
          : parseInput(bootstrapTokenSchema, bootstrapOptions.bootstrapToken, 'bootstrap token');
      const name = parseInput(bootstrapNameSchema, bootstrapOptions.tokenName ?? DEFAULT_BOOTSTRAP_TOKEN_NAME, 'name');
      const existing = await store.findOwner();
      if (existing) return { created: false, owner: toUser(existing) };
      const now = clock.now();
      const owner = newOwner(ids, now);
      const { record, secret } = newTokenRecord({
        ids,
        now,
        userId: owner.id,
        input: { name, expiresInDays: maxExpiryDays, scopes: [ALL_SCOPES] },
        ...(given === undefined ? {} : { secret: given }),
      });
      if (!(await store.createOwnerIfNone(owner, record, { actor: 'system', ids }))) {
        // Another process bootstrapped between our look and our write: theirs stands.
        const winner = await store.findOwner();
        if (!winner) throw new ProServerError('INTERNAL', 'bootstrap lost a race but no owner is visible');
        return { created: false, owner: toUser(winner) };
      }
      logger.info('created the owner and an owner application token', { userId: owner.id, tokenId: record.id });
      return given === undefined
        ? { created: true, owner: toUser(owner), secret }
        : { created: true, owner: toUser(owner) };
    },

    async mintOwnerToken(input) {
      const parsed = parseCreateTokenInput(input, maxExpiryDays);
      const now = clock.now();
      const existing = await store.findOwner();
      if (!existing) {
        // No owner yet: the minted token becomes the bootstrap token, so no unseen `*` token is left behind.
        const owner = newOwner(ids, now);
        const issued = newTokenRecord({ ids, now, userId: owner.id, input: parsed });
        if (await store.createOwnerIfNone(owner, issued.record, { actor: 'system', ids })) {
          logger.info('created the owner with a minted application token', { userId: owner.id });
          return { token: toApplicationToken(issued.record, now), secret: issued.secret };
        }
      }
      const owner = existing ?? (await store.findOwner());
      if (!owner) throw new ProServerError('INTERNAL', 'bootstrap lost a race but no owner is visible');
      const { record, secret } = newTokenRecord({ ids, now, userId: owner.id, input: parsed });
      await store.insertToken(record, { actor: 'system', ids });
      return { token: toApplicationToken(record, now), secret };
    },
  };
}
