import { type Core, createCore } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { startServer } from '@proserver/http';
import { createClient, isApiError, type ProServerClient } from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('sdk against a listening server (global fetch over loopback)', () => {
  let core: Core;
  let server: { url: string; close(): Promise<void> };
  let client: ProServerClient;

  beforeAll(async () => {
    // Loopback only: a proxy from the environment would intercept or refuse 127.0.0.1.
    delete process.env.http_proxy;
    delete process.env.https_proxy;
    delete process.env.HTTP_PROXY;
    delete process.env.HTTPS_PROXY;
    core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 } });
    const boot = await core.auth.bootstrap();
    server = await startServer({ core, port: 0, hostname: '127.0.0.1' });
    client = createClient({ baseUrl: server.url, token: boot.secret ?? '' });
  });
  afterAll(async () => {
    await server?.close();
    await core?.close();
  });

  it('talks to the server: health, key-value, CAS, streaming export and import, tokens', async () => {
    expect(await client.ping()).toBe('pong');
    expect((await client.health()).status).toBe('ok');

    const entry = await client.kv.create({ key: 'net/user@host/a', value: { ok: true } });
    const error = await client.kv.update(entry.key, { value: 1 }, { ifVersion: 99 }).catch((e: unknown) => e);
    expect(isApiError(error, 'PRECONDITION_FAILED') && error.status).toBe(412);

    for (let i = 0; i < 250; i++) await client.kv.upsert({ key: `net/bulk/${i}`, value: i });
    const exported = [];
    for await (const item of client.kv.export({ prefix: 'net/bulk/' })) exported.push(item);
    expect(exported).toHaveLength(250);
    expect(await client.kv.import(exported)).toEqual({ created: 0, updated: 250, skipped: 0 });

    const issued = await client.tokens.create({ name: 'net', expiresInDays: 1, scopes: ['kv:read'] });
    const reader = createClient({ baseUrl: server.url, token: issued.secret });
    expect((await reader.kv.get(entry.key)).value).toEqual({ ok: true });
    expect((await reader.kv.delete(entry.key).catch((e: unknown) => e)) as { status: number }).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
  });

  it('reports a closed port as NETWORK_ERROR', async () => {
    const nowhere = createClient({ baseUrl: 'http://127.0.0.1:1' });
    const error = await nowhere.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ApiError', status: 0, code: 'NETWORK_ERROR' });
  });
});
