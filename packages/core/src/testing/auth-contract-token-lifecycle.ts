import { expect, it } from 'vitest';
import { createAuthService } from '../auth/auth-service.js';
import { generateTokenSecret, hashTokenSecret } from '../auth/token-format.js';
import type { Core } from '../index.js';
import type { Logger } from '../logger.js';
import type { AuthStore } from '../storage/ports.js';
import { type AuthTokensContext, codeOf, DAY_MS } from './auth-contract-context.js';

/**
 * A token's life: the secret shown once, listing, bad input, revocation, expiry, rejected
 * secrets, rotation and last use. Registers its tests in the caller's describe block.
 */
export function registerTokenLifecycleTests(ctx: AuthTokensContext): void {
  it('shows the secret once: create returns it, get and list never do', async () => {
    const { token, secret } = await ctx.mint(ctx.owner, ['kv:read', 'kv:read']);
    expect(secret).toMatch(/^prs_/);
    expect(token).toMatchObject({ name: 'test', userId: ctx.ownerId, last4: secret.slice(-4), status: 'active' });
    expect(token.scopes).toEqual(['kv:read']);
    const fetched = await ctx.core.tokens.get(ctx.owner, token.id);
    expect(fetched).toEqual(token);
    const listed = JSON.stringify((await ctx.core.tokens.list(ctx.owner, { limit: 1000 })).items);
    expect(listed).toContain(token.id);
    for (const shown of [listed, JSON.stringify(fetched)]) {
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain(hashTokenSecret(secret));
    }
    expect(await ctx.core.auth.authenticate(secret)).toMatchObject({ tokenId: token.id, scopes: ['kv:read'] });
  });

  it('pages the list by id with an opaque cursor', async () => {
    for (let i = 0; i < 3; i++) await ctx.mint(ctx.owner, ['kv:read']);
    const all = (await ctx.core.tokens.list(ctx.owner, { limit: 1000 })).items.map((t) => t.id);
    expect([...all].sort()).toEqual(all);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.core.tokens.list(ctx.owner, { limit: 2, ...(cursor ? { cursor } : {}) });
      paged.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all);
    expect(await codeOf(ctx.core.tokens.list(ctx.owner, { cursor: 'not-a-cursor' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.core.tokens.list(ctx.owner, { limit: 0 }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.core.tokens.get(ctx.owner, 'tok_unknown'))).toBe('NOT_FOUND');
  });

  it('rejects bad create input with VALIDATION_FAILED and writes nothing', async () => {
    const before = await ctx.tokenCount();
    const bad: unknown[] = [
      { name: 'x', expiresInDays: 401, scopes: ['kv:read'] },
      { name: '   ', expiresInDays: 1, scopes: ['kv:read'] },
      { name: 'ci\u0000', expiresInDays: 1, scopes: ['kv:read'] },
      { name: 'x', expiresInDays: 0, scopes: ['kv:read'] },
      { name: 'x', expiresInDays: 1.5, scopes: ['kv:read'] },
      { name: 'x', expiresInDays: 1, scopes: [] },
      { name: 'x', expiresInDays: 1, scopes: ['kv:delete'] },
      { name: 'x', expiresInDays: 1, scopes: ['kv:read:bad pattern'] },
      { name: 'x', expiresInDays: 1, scopes: ['kv:read'], extra: true },
      { name: 'x', scopes: ['kv:read'] },
    ];
    for (const input of bad) {
      expect(await codeOf(ctx.core.tokens.create(ctx.owner, input as never)), JSON.stringify(input)).toBe(
        'VALIDATION_FAILED',
      );
    }
    expect(await ctx.tokenCount()).toBe(before);
    // No token can have an id PostgreSQL cannot compare (U+0000): not found, never a database error.
    expect(await codeOf(ctx.core.tokens.revoke(ctx.owner, 'tok_\u0000'))).toBe('NOT_FOUND');
  });

  it('revokes at once; revoking again changes nothing', async () => {
    const { token, secret } = await ctx.mint(ctx.owner, ['kv:read']);
    await ctx.core.auth.authenticate(secret);
    const revoked = await ctx.core.tokens.revoke(ctx.owner, token.id);
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: ctx.clock.now().toISOString() });
    await expect(ctx.core.auth.authenticate(secret)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'token revoked',
    });
    ctx.clock.advance(1000);
    expect((await ctx.core.tokens.revoke(ctx.owner, token.id)).revokedAt).toBe(revoked.revokedAt);
    expect(await codeOf(ctx.core.tokens.rotate(ctx.owner, token.id, { graceSeconds: 0 }))).toBe('CONFLICT');
  });

  it('answers TOKEN_EXPIRED once the expiry passes', async () => {
    const { token, secret } = await ctx.mint(ctx.owner, ['kv:read'], 1);
    ctx.clock.advance(DAY_MS - 1);
    await ctx.core.auth.authenticate(secret);
    ctx.clock.advance(1);
    expect(await codeOf(ctx.core.auth.authenticate(secret))).toBe('TOKEN_EXPIRED');
    expect((await ctx.core.tokens.get(ctx.owner, token.id)).status).toBe('expired');
    expect(await codeOf(ctx.core.tokens.rotate(ctx.owner, token.id, { graceSeconds: 0 }))).toBe('CONFLICT');
  });

  it('rejects garbled, unknown and missing secrets; format errors never reach the store', async () => {
    const { secret } = await ctx.mint(ctx.owner, ['kv:read']);
    let lookups = 0;
    const counting: AuthStore = Object.create(ctx.core.storage.auth);
    counting.findTokenBySecretHash = (hash, now) => {
      lookups++;
      return ctx.core.storage.auth.findTokenBySecretHash(hash, now);
    };
    const auth = createAuthService({ ...serviceDeps(ctx.core), store: counting });
    for (const bad of ['', typo(secret), secret.slice(0, -1), `${secret}x`, 'short', 'x'.repeat(513)]) {
      await expect(auth.authenticate(bad), bad).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(lookups).toBe(0);
    for (const unknown of [generateTokenSecret(), 'z'.repeat(40)]) {
      await expect(auth.authenticate(unknown)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'unknown token',
      });
    }
    expect(lookups).toBe(2);
    expect(await auth.authenticate(secret)).toMatchObject({ kind: 'token' });
  });

  it('keeps the old secret through the rotation grace, then only the new one', async () => {
    const { token, secret: old } = await ctx.mint(ctx.owner, ['kv:read']);
    const rotated = await ctx.core.tokens.rotate(ctx.owner, token.id, { graceSeconds: 3600 });
    expect(rotated.secret).not.toBe(old);
    expect(rotated.token).toMatchObject({ id: token.id, last4: rotated.secret.slice(-4), status: 'active' });
    expect(rotated.token.previousSecretExpiresAt).toBe(new Date(ctx.clock.now().getTime() + 3600_000).toISOString());
    ctx.clock.advance(3600_000 - 1);
    expect(await ctx.core.auth.authenticate(old)).toMatchObject({ tokenId: token.id });
    expect(await ctx.core.auth.authenticate(rotated.secret)).toMatchObject({ tokenId: token.id });
    ctx.clock.advance(1);
    expect(await codeOf(ctx.core.auth.authenticate(old))).toBe('UNAUTHENTICATED');
    expect(await ctx.core.auth.authenticate(rotated.secret)).toMatchObject({ tokenId: token.id });
    expect((await ctx.core.tokens.get(ctx.owner, token.id)).previousSecretExpiresAt).toBeNull();
  });

  it('with grace 0 the old secret stops at once; bad grace writes nothing', async () => {
    const { token, secret: old } = await ctx.mint(ctx.owner, ['kv:read']);
    for (const bad of [{ graceSeconds: 7 * 24 * 3600 + 1 }, { graceSeconds: -1 }, { graceSeconds: 1, x: 1 }]) {
      expect(await codeOf(ctx.core.tokens.rotate(ctx.owner, token.id, bad as never))).toBe('VALIDATION_FAILED');
    }
    expect((await ctx.core.tokens.get(ctx.owner, token.id)).rotatedAt).toBeNull();
    await ctx.core.auth.authenticate(old);
    const rotated = await ctx.core.tokens.rotate(ctx.owner, token.id, { graceSeconds: 0 });
    expect(await codeOf(ctx.core.auth.authenticate(old))).toBe('UNAUTHENTICATED');
    expect(await ctx.core.auth.authenticate(rotated.secret)).toMatchObject({ tokenId: token.id });
    expect(rotated.token.rotatedAt).toBe(ctx.clock.now().toISOString());
  });

  it('records last use and IP, writing at most once a minute per IP', async () => {
    const { token, secret } = await ctx.mint(ctx.owner, ['kv:read']);
    const start = ctx.clock.now().toISOString();
    await ctx.core.auth.authenticate(secret, { ip: '10.0.0.1' });
    expect(await ctx.core.tokens.get(ctx.owner, token.id)).toMatchObject({ lastUsedAt: start, lastUsedIp: '10.0.0.1' });
    ctx.clock.advance(30_000);
    await ctx.core.auth.authenticate(secret, { ip: '10.0.0.1' });
    expect((await ctx.core.tokens.get(ctx.owner, token.id)).lastUsedAt).toBe(start);
    await ctx.core.auth.authenticate(secret, { ip: '10.0.0.2' });
    expect(await ctx.core.tokens.get(ctx.owner, token.id)).toMatchObject({
      lastUsedAt: ctx.clock.now().toISOString(),
      lastUsedIp: '10.0.0.2',
    });
    ctx.clock.advance(60_000);
    await ctx.core.auth.authenticate(secret, { ip: '10.0.0.2' });
    expect((await ctx.core.tokens.get(ctx.owner, token.id)).lastUsedAt).toBe(ctx.clock.now().toISOString());
  });

  it('still authenticates when recording the use fails, and logs no secret', async () => {
    const { secret } = await ctx.mint(ctx.owner, ['kv:read']);
    const lines: string[] = [];
    const failing: AuthStore = Object.create(ctx.core.storage.auth);
    failing.touchToken = async () => {
      throw new Error('database is read-only');
    };
    const log = (message: string, fields?: Record<string, unknown>) => lines.push(JSON.stringify({ message, fields }));
    const logger: Logger = { debug: log, info: log, warn: log, error: log };
    const auth = createAuthService({ ...serviceDeps(ctx.core), store: failing, logger });
    expect(await auth.authenticate(secret, { ip: '10.0.0.9' })).toMatchObject({ kind: 'token' });
    expect(lines.join('\n')).toContain('database is read-only');
    expect(lines.join('\n')).not.toContain(secret);
  });
}

/** Changes one character of the random part: the checksum no longer matches. */
function typo(secret: string): string {
  const at = 10;
  const replacement = secret[at] === 'a' ? 'b' : 'a';
  return `${secret.slice(0, at)}${replacement}${secret.slice(at + 1)}`;
}

function serviceDeps(core: Core) {
  return {
    store: core.storage.auth,
    clock: core.clock,
    ids: core.ids,
    logger: core.logger,
    maxExpiryDays: 400,
    maxGraceSeconds: 7 * 24 * 3600,
  };
}
