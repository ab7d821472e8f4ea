import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashTokenSecret } from '../auth/token-format.js';
import { newTokenRecord } from '../auth/token-service.js';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { Core } from '../index.js';
import type { UserRecord } from '../storage/ports.js';
import { codeOf, DAY_MS, newCore } from './auth-contract-context.js';
import { type BackendName, createTestStorage } from './backends.js';
import { ManualClock } from './manual-clock.js';

/** Bootstrap and the first owner: every test gets an empty database of its own. */
export function describeAuthBootstrap(backend: BackendName): void {
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
}
