import { expect, it } from 'vitest';
import { can } from '../auth/scopes.js';
import { newTokenRecord } from '../auth/token-service.js';
import type { Principal, Role } from '../auth/types.js';
import type { UserRecord } from '../storage/ports.js';
import { type AuthTokensContext, codeOf } from './auth-contract-context.js';

/**
 * What a token may do: resource patterns, never more power than the caller holds, and member
 * tokens bounded by the member role. Registers its tests in the caller's describe block.
 */
export function registerTokenScopeTests(ctx: AuthTokensContext): void {
  async function member(scopes: string[]): Promise<{ principal: Principal; secret: string; userId: string }> {
    const now = ctx.clock.now();
    const user: UserRecord = {
      id: ctx.core.ids.next('usr'),
      name: 'member',
      email: null,
      role: 'member' as Role,
      createdAt: now,
      deletedAt: null,
    };
    await ctx.core.storage.auth.insertUser(user);
    const input = { name: 'member token', expiresInDays: 30, scopes };
    const { record, secret } = newTokenRecord({ ids: ctx.core.ids, now, userId: user.id, input });
    await ctx.core.storage.auth.insertToken(record);
    return { principal: await ctx.core.auth.authenticate(secret), secret, userId: user.id };
  }

  it('narrows power to resource patterns', async () => {
    const { secret } = await ctx.mint(ctx.owner, ['kv:write:pipelines/*', 'docs:read:projects/acme/**']);
    const principal = await ctx.core.auth.authenticate(secret);
    expect(can(principal, 'kv:write', 'pipelines/a')).toBe(true);
    expect(can(principal, 'kv:write', 'pipelines/a/b')).toBe(false);
    expect(can(principal, 'kv:write', 'other/a')).toBe(false);
    expect(can(principal, 'kv:read', 'pipelines/a')).toBe(false);
    expect(can(principal, 'docs:read', 'projects/acme/x/y')).toBe(true);
  });

  it('never mints or rotates into more power than the caller holds', async () => {
    const { secret } = await ctx.mint(ctx.owner, ['kv:read', 'kv:write:pipelines/**', 'tokens:write']);
    const narrow = await ctx.core.auth.authenticate(secret);
    const before = await ctx.tokenCount();
    for (const scopes of [['kv:write'], ['*'], ['kv:read', 'users:write'], ['kv:write:other/*']]) {
      await expect(ctx.mint(narrow, scopes)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    const noTokens = await ctx.core.auth.authenticate((await ctx.mint(ctx.owner, ['kv:read'])).secret);
    expect(await codeOf(ctx.mint(noTokens, ['kv:read']))).toBe('FORBIDDEN');
    expect(await ctx.tokenCount()).toBe(before + 1);
    const child = await ctx.mint(narrow, ['kv:write:pipelines/main/*', 'kv:read:x']);
    expect(child.token.userId).toBe(ctx.ownerId);
    const wide = await ctx.mint(ctx.owner, ['*']);
    expect(await codeOf(ctx.core.tokens.rotate(narrow, wide.token.id, { graceSeconds: 0 }))).toBe('FORBIDDEN');
    await ctx.core.auth.authenticate(wide.secret);
  });

  it('intersects a member token with the member role and hides other users’ tokens', async () => {
    const { principal, userId, secret } = await member(['*']);
    expect(principal).toMatchObject({ role: 'member', userId });
    const scopes = principal.kind === 'token' ? principal.scopes : [];
    expect(scopes).toContain('kv:write');
    expect(scopes).toContain('tokens:write');
    for (const denied of ['*', 'users:write', 'audit:read', 'orgs:write', 'orgs:credentials', 'webhooks:write']) {
      expect(scopes).not.toContain(denied);
    }
    const narrowed = await member(['users:write', 'kv:read']);
    expect(narrowed.principal).toMatchObject({ scopes: ['kv:read'] });

    const own = await ctx.mint(principal, ['kv:read']);
    expect(own.token.userId).toBe(userId);
    expect(await codeOf(ctx.mint(principal, ['users:write']))).toBe('FORBIDDEN');
    const listed = (await ctx.core.tokens.list(principal, { limit: 1000 })).items;
    expect(new Set(listed.map((t) => t.userId))).toEqual(new Set([userId]));
    const ownersToken = (await ctx.mint(ctx.owner, ['kv:read'])).token.id;
    // Thunks, not promises: each attempt starts only when awaited (no unhandled rejection).
    for (const attempt of [
      () => ctx.core.tokens.get(principal, ownersToken),
      () => ctx.core.tokens.revoke(principal, ownersToken),
      () => ctx.core.tokens.rotate(principal, ownersToken, { graceSeconds: 0 }),
    ]) {
      expect(await codeOf(attempt())).toBe('NOT_FOUND');
    }
    expect((await ctx.core.tokens.get(ctx.owner, ownersToken)).status).toBe('active');
    expect((await ctx.core.tokens.get(ctx.owner, own.token.id)).userId).toBe(userId);

    await ctx.core.storage.auth.updateUser(userId, { deletedAt: ctx.clock.now() });
    expect(await codeOf(ctx.core.auth.authenticate(secret))).toBe('UNAUTHENTICATED');
  });
}
