/**
 * The contract every storage backend must pass for application tokens and bootstrap,
 * exercised through the services (`core.tokens`, `core.auth`) as an embedding app would.
 * Bootstrap is per database, so tests that need an empty database get their own storage;
 * the others share one bootstrapped storage and never depend on each other's order.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthService } from '../auth/auth-service.js';
import { can } from '../auth/scopes.js';
import { generateTokenSecret, hashTokenSecret } from '../auth/token-format.js';
import { newTokenRecord } from '../auth/token-service.js';
import { type Principal, type Role, SYSTEM_PRINCIPAL } from '../auth/types.js';
import { type Core, createCore } from '../index.js';
import type { Logger } from '../logger.js';
import type { AuthStore, Storage, UserRecord } from '../storage/ports.js';
import { type BackendName, createTestStorage } from './backends.js';
import { ManualClock } from './manual-clock.js';

const DAY_MS = 24 * 3600 * 1000;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return 'no error';
}

/** Changes one character of the random part: the checksum no longer matches. */
function typo(secret: string): string {
  const at = 10;
  const replacement = secret[at] === 'a' ? 'b' : 'a';
  return `${secret.slice(0, at)}${replacement}${secret.slice(at + 1)}`;
}

function newCore(storage: Storage, clock: ManualClock): Core {
  return createCore({ storage, clock, kv: { sweepIntervalMs: 0 }, tokens: { maxExpiryDays: 400 } });
}

/** Registers the application-token and bootstrap contract for one backend. */
export function describeAuthContract(backend: BackendName): void {
  describe(`auth contract on ${backend}: bootstrap (an empty database each)`, () => {
    let core: Core;
    let clock: ManualClock;

    beforeEach(async () => {
      clock = new ManualClock();
      core = newCore(await createTestStorage(backend), clock);
    });
    afterEach(async () => {
      await core.close();
    });

    it('creates the owner and a working `*` token once; a second call creates nothing', async () => {
      const first = await core.auth.bootstrap();
      expect(first.created).toBe(true);
      expect(first.owner.role).toBe('owner');
      expect(first.secret).toMatch(/^prs_[0-9A-Za-z]{36}$/);
      const principal = await core.auth.authenticate(first.secret as string);
      expect(principal).toMatchObject({ kind: 'token', userId: first.owner.id, role: 'owner', scopes: ['*'] });
      const [token] = (await core.tokens.list(principal)).items;
      expect(token?.expiresAt).toBe(new Date(clock.now().getTime() + 400 * DAY_MS).toISOString());

      const second = await core.auth.bootstrap();
      expect(second).toEqual({ created: false, owner: first.owner });
      expect((await core.tokens.list(SYSTEM_PRINCIPAL)).items).toHaveLength(1);
    });

    it('uses a given bootstrap token as the secret and stores only its hash', async () => {
      const given = 'my-operator-chosen-bootstrap-secret-0123456789';
      const result = await core.auth.bootstrap({ bootstrapToken: given, tokenName: 'ops' });
      expect(result.created).toBe(true);
      expect(result).not.toHaveProperty('secret');
      const principal = await core.auth.authenticate(given);
      expect(principal).toMatchObject({ kind: 'token', role: 'owner' });
      const store = core.storage.auth;
      const found = await store.findTokenBySecretHash(hashTokenSecret(given), clock.now());
      expect(found?.token.name).toBe('ops');
      const stored = JSON.stringify([found, await store.listTokens({ limit: 10 }), await store.findOwner()]);
      expect(stored).not.toContain(given);
      expect(stored).not.toContain(given.slice(0, 20));
    });

    it('rejects a bad bootstrap token and creates nothing', async () => {
      for (const bad of ['too-short', `prs_${'a'.repeat(36)}`, `has a space ${'x'.repeat(40)}`, 'é'.repeat(40)]) {
        expect(await codeOf(core.auth.bootstrap({ bootstrapToken: bad }))).toBe('VALIDATION_FAILED');
      }
      expect(await codeOf(core.auth.bootstrap({ tokenName: '  ' }))).toBe('VALIDATION_FAILED');
      expect(await core.storage.auth.findOwner()).toBeNull();
      expect(await core.storage.auth.listTokens({ limit: 10 })).toEqual([]);
    });

    it('creates exactly one owner when bootstraps race', async () => {
      await Promise.all(Array.from({ length: 8 }, () => core.storage.ping()));
      const results = await Promise.all(Array.from({ length: 6 }, () => core.auth.bootstrap()));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.owner.id)).size).toBe(1);
      expect(await core.storage.auth.listTokens({ limit: 10 })).toHaveLength(1);
    });

    it('store.createOwnerIfNone admits exactly one of many concurrent owners', async () => {
      // Open every pooled connection first, so the attempts below really run side by side.
      await Promise.all(Array.from({ length: 8 }, () => core.storage.ping()));
      const now = clock.now();
      const attempts = Array.from({ length: 6 }, (_, i) => {
        const owner: UserRecord = {
          id: `usr_race${i}`,
          name: 'owner',
          email: null,
          role: 'owner',
          createdAt: now,
          deletedAt: null,
        };
        const input = { name: `race ${i}`, expiresInDays: 1, scopes: ['*'] };
        const { record } = newTokenRecord({ ids: core.ids, now, userId: owner.id, input });
        return core.storage.auth.createOwnerIfNone(owner, record);
      });
      expect((await Promise.all(attempts)).filter(Boolean)).toHaveLength(1);
      expect(await core.storage.auth.listTokens({ limit: 10 })).toHaveLength(1);
    });

    it('mintOwnerToken bootstraps with the minted token only, then adds tokens to that owner', async () => {
      const first = await core.auth.mintOwnerToken({ name: 'cli', expiresInDays: 7, scopes: ['kv:read'] });
      expect(await core.storage.auth.listTokens({ limit: 10 })).toHaveLength(1);
      const second = await core.auth.mintOwnerToken({ name: 'cli 2', expiresInDays: 7, scopes: ['*'] });
      expect(second.token.userId).toBe(first.token.userId);
      expect(await core.auth.authenticate(first.secret)).toMatchObject({ role: 'owner', scopes: ['kv:read'] });
      expect((await core.auth.bootstrap()).created).toBe(false);
      expect(await codeOf(core.auth.mintOwnerToken({ name: 'x', expiresInDays: 401, scopes: ['*'] }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await core.storage.auth.listTokens({ limit: 10 })).toHaveLength(2);
    });

    it('cannot create a token for the system principal before an owner exists', async () => {
      const input = { name: 'early', expiresInDays: 1, scopes: ['kv:read'] };
      expect(await codeOf(core.tokens.create(SYSTEM_PRINCIPAL, input))).toBe('VALIDATION_FAILED');
      expect(await core.storage.auth.listTokens({ limit: 10 })).toEqual([]);
    });
  });

  describe(`auth contract on ${backend}: application tokens`, () => {
    let core: Core;
    let clock: ManualClock;
    let owner: Principal;
    let ownerId: string;

    beforeAll(async () => {
      clock = new ManualClock();
      core = newCore(await createTestStorage(backend), clock);
      const boot = await core.auth.bootstrap();
      ownerId = boot.owner.id;
      owner = await core.auth.authenticate(boot.secret as string);
    });
    afterAll(async () => {
      await core.close();
    });

    const mint = (actor: Principal, scopes: string[], expiresInDays = 30) =>
      core.tokens.create(actor, { name: 'test', expiresInDays, scopes });
    const tokenCount = async () => (await core.storage.auth.listTokens({ limit: 1000 })).length;

    async function member(scopes: string[]): Promise<{ principal: Principal; secret: string; userId: string }> {
      const now = clock.now();
      const user: UserRecord = {
        id: core.ids.next('usr'),
        name: 'member',
        email: null,
        role: 'member' as Role,
        createdAt: now,
        deletedAt: null,
      };
      await core.storage.auth.insertUser(user);
      const input = { name: 'member token', expiresInDays: 30, scopes };
      const { record, secret } = newTokenRecord({ ids: core.ids, now, userId: user.id, input });
      await core.storage.auth.insertToken(record);
      return { principal: await core.auth.authenticate(secret), secret, userId: user.id };
    }

    it('shows the secret once: create returns it, get and list never do', async () => {
      const { token, secret } = await mint(owner, ['kv:read', 'kv:read']);
      expect(secret).toMatch(/^prs_/);
      expect(token).toMatchObject({ name: 'test', userId: ownerId, last4: secret.slice(-4), status: 'active' });
      expect(token.scopes).toEqual(['kv:read']);
      const fetched = await core.tokens.get(owner, token.id);
      expect(fetched).toEqual(token);
      const listed = JSON.stringify((await core.tokens.list(owner, { limit: 1000 })).items);
      expect(listed).toContain(token.id);
      for (const shown of [listed, JSON.stringify(fetched)]) {
        expect(shown).not.toContain(secret);
        expect(shown).not.toContain(hashTokenSecret(secret));
      }
      expect(await core.auth.authenticate(secret)).toMatchObject({ tokenId: token.id, scopes: ['kv:read'] });
    });

    it('pages the list by id with an opaque cursor', async () => {
      for (let i = 0; i < 3; i++) await mint(owner, ['kv:read']);
      const all = (await core.tokens.list(owner, { limit: 1000 })).items.map((t) => t.id);
      expect([...all].sort()).toEqual(all);
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await core.tokens.list(owner, { limit: 2, ...(cursor ? { cursor } : {}) });
        paged.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(paged).toEqual(all);
      expect(await codeOf(core.tokens.list(owner, { cursor: 'not-a-cursor' }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(core.tokens.list(owner, { limit: 0 }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(core.tokens.get(owner, 'tok_unknown'))).toBe('NOT_FOUND');
    });

    it('rejects bad create input with VALIDATION_FAILED and writes nothing', async () => {
      const before = await tokenCount();
      const bad: unknown[] = [
        { name: 'x', expiresInDays: 401, scopes: ['kv:read'] },
        { name: '   ', expiresInDays: 1, scopes: ['kv:read'] },
        { name: 'x', expiresInDays: 0, scopes: ['kv:read'] },
        { name: 'x', expiresInDays: 1.5, scopes: ['kv:read'] },
        { name: 'x', expiresInDays: 1, scopes: [] },
        { name: 'x', expiresInDays: 1, scopes: ['kv:delete'] },
        { name: 'x', expiresInDays: 1, scopes: ['kv:read:bad pattern'] },
        { name: 'x', expiresInDays: 1, scopes: ['kv:read'], extra: true },
        { name: 'x', scopes: ['kv:read'] },
      ];
      for (const input of bad) {
        expect(await codeOf(core.tokens.create(owner, input as never)), JSON.stringify(input)).toBe(
          'VALIDATION_FAILED',
        );
      }
      expect(await tokenCount()).toBe(before);
    });

    it('revokes at once; revoking again changes nothing', async () => {
      const { token, secret } = await mint(owner, ['kv:read']);
      await core.auth.authenticate(secret);
      const revoked = await core.tokens.revoke(owner, token.id);
      expect(revoked).toMatchObject({ status: 'revoked', revokedAt: clock.now().toISOString() });
      await expect(core.auth.authenticate(secret)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'token revoked',
      });
      clock.advance(1000);
      expect((await core.tokens.revoke(owner, token.id)).revokedAt).toBe(revoked.revokedAt);
      expect(await codeOf(core.tokens.rotate(owner, token.id, { graceSeconds: 0 }))).toBe('CONFLICT');
    });

    it('answers TOKEN_EXPIRED once the expiry passes', async () => {
      const { token, secret } = await mint(owner, ['kv:read'], 1);
      clock.advance(DAY_MS - 1);
      await core.auth.authenticate(secret);
      clock.advance(1);
      expect(await codeOf(core.auth.authenticate(secret))).toBe('TOKEN_EXPIRED');
      expect((await core.tokens.get(owner, token.id)).status).toBe('expired');
      expect(await codeOf(core.tokens.rotate(owner, token.id, { graceSeconds: 0 }))).toBe('CONFLICT');
    });

    it('rejects garbled, unknown and missing secrets; format errors never reach the store', async () => {
      const { secret } = await mint(owner, ['kv:read']);
      let lookups = 0;
      const counting: AuthStore = Object.create(core.storage.auth);
      counting.findTokenBySecretHash = (hash, now) => {
        lookups++;
        return core.storage.auth.findTokenBySecretHash(hash, now);
      };
      const auth = createAuthService({ ...serviceDeps(core), store: counting });
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
      const { token, secret: old } = await mint(owner, ['kv:read']);
      const rotated = await core.tokens.rotate(owner, token.id, { graceSeconds: 3600 });
      expect(rotated.secret).not.toBe(old);
      expect(rotated.token).toMatchObject({ id: token.id, last4: rotated.secret.slice(-4), status: 'active' });
      expect(rotated.token.previousSecretExpiresAt).toBe(new Date(clock.now().getTime() + 3600_000).toISOString());
      clock.advance(3600_000 - 1);
      expect(await core.auth.authenticate(old)).toMatchObject({ tokenId: token.id });
      expect(await core.auth.authenticate(rotated.secret)).toMatchObject({ tokenId: token.id });
      clock.advance(1);
      expect(await codeOf(core.auth.authenticate(old))).toBe('UNAUTHENTICATED');
      expect(await core.auth.authenticate(rotated.secret)).toMatchObject({ tokenId: token.id });
      expect((await core.tokens.get(owner, token.id)).previousSecretExpiresAt).toBeNull();
    });

    it('with grace 0 the old secret stops at once; bad grace writes nothing', async () => {
      const { token, secret: old } = await mint(owner, ['kv:read']);
      for (const bad of [{ graceSeconds: 7 * 24 * 3600 + 1 }, { graceSeconds: -1 }, { graceSeconds: 1, x: 1 }]) {
        expect(await codeOf(core.tokens.rotate(owner, token.id, bad as never))).toBe('VALIDATION_FAILED');
      }
      expect((await core.tokens.get(owner, token.id)).rotatedAt).toBeNull();
      await core.auth.authenticate(old);
      const rotated = await core.tokens.rotate(owner, token.id, { graceSeconds: 0 });
      expect(await codeOf(core.auth.authenticate(old))).toBe('UNAUTHENTICATED');
      expect(await core.auth.authenticate(rotated.secret)).toMatchObject({ tokenId: token.id });
      expect(rotated.token.rotatedAt).toBe(clock.now().toISOString());
    });

    it('records last use and IP, writing at most once a minute per IP', async () => {
      const { token, secret } = await mint(owner, ['kv:read']);
      const start = clock.now().toISOString();
      await core.auth.authenticate(secret, { ip: '10.0.0.1' });
      expect(await core.tokens.get(owner, token.id)).toMatchObject({ lastUsedAt: start, lastUsedIp: '10.0.0.1' });
      clock.advance(30_000);
      await core.auth.authenticate(secret, { ip: '10.0.0.1' });
      expect((await core.tokens.get(owner, token.id)).lastUsedAt).toBe(start);
      await core.auth.authenticate(secret, { ip: '10.0.0.2' });
      expect(await core.tokens.get(owner, token.id)).toMatchObject({
        lastUsedAt: clock.now().toISOString(),
        lastUsedIp: '10.0.0.2',
      });
      clock.advance(60_000);
      await core.auth.authenticate(secret, { ip: '10.0.0.2' });
      expect((await core.tokens.get(owner, token.id)).lastUsedAt).toBe(clock.now().toISOString());
    });

    it('still authenticates when recording the use fails, and logs no secret', async () => {
      const { secret } = await mint(owner, ['kv:read']);
      const lines: string[] = [];
      const failing: AuthStore = Object.create(core.storage.auth);
      failing.touchToken = async () => {
        throw new Error('database is read-only');
      };
      const log = (message: string, fields?: Record<string, unknown>) =>
        lines.push(JSON.stringify({ message, fields }));
      const logger: Logger = { debug: log, info: log, warn: log, error: log };
      const auth = createAuthService({ ...serviceDeps(core), store: failing, logger });
      expect(await auth.authenticate(secret, { ip: '10.0.0.9' })).toMatchObject({ kind: 'token' });
      expect(lines.join('\n')).toContain('database is read-only');
      expect(lines.join('\n')).not.toContain(secret);
    });

    it('narrows power to resource patterns', async () => {
      const { secret } = await mint(owner, ['kv:write:pipelines/*', 'docs:read:projects/acme/**']);
      const principal = await core.auth.authenticate(secret);
      expect(can(principal, 'kv:write', 'pipelines/a')).toBe(true);
      expect(can(principal, 'kv:write', 'pipelines/a/b')).toBe(false);
      expect(can(principal, 'kv:write', 'other/a')).toBe(false);
      expect(can(principal, 'kv:read', 'pipelines/a')).toBe(false);
      expect(can(principal, 'docs:read', 'projects/acme/x/y')).toBe(true);
    });

    it('never mints or rotates into more power than the caller holds', async () => {
      const { secret } = await mint(owner, ['kv:read', 'kv:write:pipelines/**', 'tokens:write']);
      const narrow = await core.auth.authenticate(secret);
      const before = await tokenCount();
      for (const scopes of [['kv:write'], ['*'], ['kv:read', 'users:write'], ['kv:write:other/*']]) {
        await expect(mint(narrow, scopes)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      }
      const noTokens = await core.auth.authenticate((await mint(owner, ['kv:read'])).secret);
      expect(await codeOf(mint(noTokens, ['kv:read']))).toBe('FORBIDDEN');
      expect(await tokenCount()).toBe(before + 1);
      const child = await mint(narrow, ['kv:write:pipelines/main/*', 'kv:read:x']);
      expect(child.token.userId).toBe(ownerId);
      const wide = await mint(owner, ['*']);
      expect(await codeOf(core.tokens.rotate(narrow, wide.token.id, { graceSeconds: 0 }))).toBe('FORBIDDEN');
      await core.auth.authenticate(wide.secret);
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

      const own = await mint(principal, ['kv:read']);
      expect(own.token.userId).toBe(userId);
      expect(await codeOf(mint(principal, ['users:write']))).toBe('FORBIDDEN');
      const listed = (await core.tokens.list(principal, { limit: 1000 })).items;
      expect(new Set(listed.map((t) => t.userId))).toEqual(new Set([userId]));
      const ownersToken = (await mint(owner, ['kv:read'])).token.id;
      // Thunks, not promises: each attempt starts only when awaited (no unhandled rejection).
      for (const attempt of [
        () => core.tokens.get(principal, ownersToken),
        () => core.tokens.revoke(principal, ownersToken),
        () => core.tokens.rotate(principal, ownersToken, { graceSeconds: 0 }),
      ]) {
        expect(await codeOf(attempt())).toBe('NOT_FOUND');
      }
      expect((await core.tokens.get(owner, ownersToken)).status).toBe('active');
      expect((await core.tokens.get(owner, own.token.id)).userId).toBe(userId);

      await core.storage.auth.updateUser(userId, { deletedAt: clock.now() });
      expect(await codeOf(core.auth.authenticate(secret))).toBe('UNAUTHENTICATED');
    });
  });
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
