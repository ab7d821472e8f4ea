import { randomBytes } from 'node:crypto';
import { type Core, createCore, isProServerError, type Principal } from '@proserver/core';
import { createPostgresStorage } from '@proserver/core/postgres';
import { createTestStorage } from '@proserver/core/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

async function authenticates(core: Core, secret: string): Promise<boolean> {
  try {
    await core.auth.authenticate(secret);
    return true;
  } catch (error) {
    if (isProServerError(error, 'UNAUTHENTICATED')) return false;
    throw error;
  }
}

/** Polls (yielding to I/O between tries) until `check` holds; fails after `tries`. */
async function eventually(check: () => Promise<boolean>, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition never held');
}

describe('token lookup cache on PGlite', () => {
  let core: Core;
  let owner: Principal;
  let secret: string;
  let lookups = 0;

  beforeAll(async () => {
    const storage = await createTestStorage('pglite');
    const find = storage.auth.findTokenBySecretHash.bind(storage.auth);
    storage.auth.findTokenBySecretHash = async (hash, now) => {
      lookups++;
      return find(hash, now);
    };
    core = createCore({ storage, kv: { sweepIntervalMs: 0 }, tokens: { cacheTtlMs: 60_000 } });
    secret = (await core.auth.bootstrap()).secret!;
    owner = await core.auth.authenticate(secret);
  });
  afterAll(() => core.close());

  it('answers a repeated lookup without a query', async () => {
    const before = lookups;
    for (let i = 0; i < 5; i++) await core.auth.authenticate(secret);
    expect(lookups - before).toBeLessThanOrEqual(1);
  });

  it('forgets a token as soon as it is revoked or rotated, even with a long TTL', async () => {
    const issued = await core.tokens.create(owner, { name: 'cached', expiresInDays: 1, scopes: ['kv:read'] });
    expect(await authenticates(core, issued.secret)).toBe(true);
    const rotated = await core.tokens.rotate(owner, issued.token.id, { graceSeconds: 0 });
    expect(await authenticates(core, issued.secret)).toBe(false);
    expect(await authenticates(core, rotated.secret)).toBe(true);
    await core.tokens.revoke(owner, issued.token.id);
    expect(await authenticates(core, rotated.secret)).toBe(false);
  });

  it('never caches an unknown secret', async () => {
    const unknown = `${'x'.repeat(40)}`;
    const before = lookups;
    expect(await authenticates(core, unknown)).toBe(false);
    expect(await authenticates(core, unknown)).toBe(false);
    expect(lookups - before).toBe(2);
  });
});

describe.runIf(process.env.DATABASE_URL)('token lookup cache across two nodes on PostgreSQL', () => {
  const url = process.env.DATABASE_URL ?? '';
  const schema = `t_${randomBytes(6).toString('hex')}`;
  let nodeA: Core;
  let nodeB: Core;
  let owner: Principal;

  beforeAll(async () => {
    // A long TTL: only the change notification can explain a prompt refusal on the other node.
    const options = { kv: { sweepIntervalMs: 0 }, tokens: { cacheTtlMs: 600_000 } };
    nodeA = createCore({ storage: await createPostgresStorage({ url, schema, max: 2 }), ...options });
    nodeB = createCore({ storage: await createPostgresStorage({ url, schema, max: 2 }), ...options });
    const secret = (await nodeA.auth.bootstrap()).secret!;
    owner = await nodeA.auth.authenticate(secret);
  });
  afterAll(async () => {
    await Promise.all([nodeA.close(), nodeB.close()]);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('a token revoked on node B stops working on node A, which had it cached', async () => {
    const { secret, token } = await nodeA.tokens.create(owner, { name: 'ci', expiresInDays: 1, scopes: ['kv:read'] });
    expect(await authenticates(nodeA, secret)).toBe(true);
    expect(await authenticates(nodeA, secret)).toBe(true);
    await nodeB.tokens.revoke(owner, token.id);
    await eventually(async () => !(await authenticates(nodeA, secret)));
  });
});
