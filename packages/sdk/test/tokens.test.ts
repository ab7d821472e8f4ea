import { testBackendNames } from '@proserver/core/testing';
import { type ApiError, type ApplicationToken, isApiError } from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcess } from './support/in-process.js';

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isApiError(error)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

async function allTokens(server: InProcessServer): Promise<ApplicationToken[]> {
  const out: ApplicationToken[] = [];
  for await (const page of server.owner.tokens.listAll({ limit: 2 })) out.push(...page.items);
  return out;
}

for (const backend of testBackendNames()) {
  describe(`sdk tokens on ${backend}`, () => {
    let server: InProcessServer;
    beforeAll(async () => {
      server = await startInProcess(backend);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('creates a token whose secret works, and lists and gets it without the secret', async () => {
      const issued = await server.owner.tokens.create({
        name: 'ci',
        expiresInDays: 30,
        scopes: ['kv:read', 'kv:write'],
      });
      expect(issued.secret).toMatch(/^prs_[0-9A-Za-z]{36}$/);
      expect(issued.token).toMatchObject({ name: 'ci', scopes: ['kv:read', 'kv:write'], status: 'active' });
      expect(issued.token.last4).toBe(issued.secret.slice(-4));
      expect(issued.token.id).toMatch(/^tok_/);

      const ci = server.clientWith(issued.secret);
      await ci.kv.upsert({ key: 'tokens/ci', value: 1 });
      expect((await ci.kv.get('tokens/ci')).value).toBe(1);

      const fetched = await server.owner.tokens.get(issued.token.id);
      expect(fetched).toMatchObject({ id: issued.token.id, name: 'ci', status: 'active' });
      expect(fetched.lastUsedAt).not.toBeNull();
      expect(JSON.stringify(fetched)).not.toContain(issued.secret);

      const page = await server.owner.tokens.list({ limit: 1 });
      expect(page.items).toHaveLength(1);
      expect(page.nextCursor).toEqual(expect.any(String));
      const listed = await allTokens(server);
      expect(listed.map((t) => t.id)).toContain(issued.token.id);
      expect(JSON.stringify(listed)).not.toContain(issued.secret);
    });

    it('revokes at once: the secret answers 401 afterwards', async () => {
      const issued = await server.owner.tokens.create({ name: 'revoke-me', expiresInDays: 1, scopes: ['kv:read'] });
      const client = server.clientWith(issued.secret);
      await expect(client.kv.list()).resolves.toBeDefined();
      const revoked = await server.owner.tokens.revoke(issued.token.id);
      expect(revoked).toMatchObject({ id: issued.token.id, status: 'revoked' });
      expect(revoked.revokedAt).not.toBeNull();
      expect(await failure(client.kv.list())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('rotates: the new secret works, the old one only during the grace period', async () => {
      const issued = await server.owner.tokens.create({ name: 'rotate-me', expiresInDays: 10, scopes: ['kv:read'] });
      const rotated = await server.owner.tokens.rotate(issued.token.id, { graceSeconds: 60 });
      expect(rotated.secret).not.toBe(issued.secret);
      expect(rotated.token.id).toBe(issued.token.id);
      expect(rotated.token.previousSecretExpiresAt).not.toBeNull();
      expect(rotated.token.rotatedAt).not.toBeNull();

      await expect(server.clientWith(rotated.secret).kv.list()).resolves.toBeDefined();
      await expect(server.clientWith(issued.secret).kv.list()).resolves.toBeDefined();
      server.clock.advance(61_000);
      await expect(server.clientWith(rotated.secret).kv.list()).resolves.toBeDefined();
      expect((await failure(server.clientWith(issued.secret).kv.list())).status).toBe(401);
    });

    it('answers 401 UNAUTHENTICATED for a bad or missing token', async () => {
      const garbled = await failure(server.clientWith('prs_not-a-real-token').kv.get('x'));
      expect(garbled).toMatchObject({ name: 'ApiError', status: 401, code: 'UNAUTHENTICATED' });
      const wrongChecksum = `${server.ownerSecret.slice(0, -1)}${server.ownerSecret.endsWith('A') ? 'B' : 'A'}`;
      expect((await failure(server.clientWith(wrongChecksum).kv.get('x'))).status).toBe(401);
      expect((await failure(server.clientWith().status())).code).toBe('UNAUTHENTICATED');
    });

    it('answers 403 FORBIDDEN for a token without the scope, writing nothing', async () => {
      const reader = await server.owner.tokens.create({ name: 'reader', expiresInDays: 1, scopes: ['kv:read'] });
      const readOnly = server.clientWith(reader.secret);
      const error = await failure(readOnly.kv.upsert({ key: 'forbidden/a', value: 1 }));
      expect(error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(error.detail).toContain('kv:write');
      expect((await failure(server.owner.kv.get('forbidden/a'))).code).toBe('NOT_FOUND');
      expect((await failure(readOnly.tokens.create({ name: 'x', expiresInDays: 1, scopes: [] }))).status).toBe(403);

      const narrow = await server.owner.tokens.create({
        name: 'narrow',
        expiresInDays: 1,
        scopes: ['kv:write:pipelines/*', 'kv:read:pipelines/*'],
      });
      const pipelines = server.clientWith(narrow.secret);
      await pipelines.kv.upsert({ key: 'pipelines/main', value: 'green' });
      const outside = await failure(pipelines.kv.upsert({ key: 'secrets/main', value: 'x' }));
      expect(outside).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect((await failure(server.owner.kv.get('secrets/main'))).code).toBe('NOT_FOUND');
    });

    it('refuses bad token input with VALIDATION_FAILED, creating nothing', async () => {
      const before = (await allTokens(server)).length;
      const error = await failure(server.owner.tokens.create({ name: 'bad', expiresInDays: 0, scopes: ['kv:read'] }));
      expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(error.errors?.length).toBeGreaterThan(0);
      const badScope = await failure(server.owner.tokens.create({ name: 'bad', expiresInDays: 1, scopes: ['nope'] }));
      expect(badScope.code).toBe('VALIDATION_FAILED');
      expect((await allTokens(server)).length).toBe(before);
    });

    it('answers NOT_FOUND for an unknown token id', async () => {
      expect(await failure(server.owner.tokens.get('tok_unknown'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      expect((await failure(server.owner.tokens.revoke('tok_unknown'))).code).toBe('NOT_FOUND');
      expect((await failure(server.owner.tokens.rotate('tok_unknown', { graceSeconds: 0 }))).code).toBe('NOT_FOUND');
    });

    it('asks getToken for the secret on every request', async () => {
      let calls = 0;
      const client = server.clientWith(undefined, {
        getToken: async () => {
          calls++;
          return server.ownerSecret;
        },
      });
      await client.kv.upsert({ key: 'get-token/a', value: 1 });
      await client.kv.get('get-token/a');
      expect(calls).toBe(2);
    });
  });
}
