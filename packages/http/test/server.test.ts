/** The app on a real socket: health, an authenticated round trip, streaming, client IPs. */
import { createCore, SYSTEM_PRINCIPAL } from '@proserver/core';
import { createTestStorage } from '@proserver/core/testing';
import { type RunningServer, startServer } from '@proserver/http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { streamOf } from './support/harness.js';

describe('startServer', () => {
  let core: ReturnType<typeof createCore>;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    // Loopback must never go through a proxy.
    for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) vi.stubEnv(name, undefined);
    core = createCore({ storage: await createTestStorage('pglite'), kv: { sweepIntervalMs: 0 } });
    token = (await core.auth.bootstrap()).secret as string;
    server = await startServer({ core, port: 0, hostname: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
    await core?.close();
  });

  it('listens on the port it reports', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('answers /health', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('does an authenticated key-value round trip and records the client IP', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const created = await fetch(`${server.url}/api/key-value`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: 'net/a', value: { over: 'http' } }),
    });
    expect(created.status).toBe(201);
    const read = await fetch(`${server.url}/api/key-value/net/a`, { headers: auth });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ key: 'net/a', value: { over: 'http' }, version: 1 });
    const unauthenticated = await fetch(`${server.url}/api/key-value/net/a`);
    expect(unauthenticated.status).toBe(401);
    const { items } = await core.tokens.list(SYSTEM_PRINCIPAL);
    expect(items[0]?.lastUsedIp).toBe('127.0.0.1');
  });

  it('streams an NDJSON export and refuses a chunked body over the limit', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    for (let i = 0; i < 5; i++) await core.kv.upsert({ key: `stream/${i}`, value: i });
    const res = await fetch(`${server.url}/api/key-value?prefix=stream/`, {
      headers: { ...auth, Accept: 'application/x-ndjson' },
    });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).value)).toEqual([0, 1, 2, 3, 4]);

    const big = JSON.stringify({ key: 'net/big', value: 'x'.repeat(2 * 1024 * 1024) });
    const tooLarge = await fetch(`${server.url}/api/key-value`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: streamOf(big),
      duplex: 'half',
    } as RequestInit);
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).code).toBe('PAYLOAD_TOO_LARGE');
    await expect(core.kv.get('net/big')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
