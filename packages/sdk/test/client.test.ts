import { testBackendNames } from '@proserver/core/testing';
import { ApiError, createClient, isApiError } from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcess } from './support/in-process.js';

for (const backend of testBackendNames()) {
  describe(`sdk health and status on ${backend}`, () => {
    let server: InProcessServer;
    beforeAll(async () => {
      server = await startInProcess(backend);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('pings and reads health without a token', async () => {
      const anonymous = server.clientWith();
      expect(await anonymous.ping()).toBe('pong');
      expect(await anonymous.health()).toMatchObject({ status: 'ok', version: expect.any(String) });
    });

    it('reads the detailed status with a token', async () => {
      expect(await server.owner.status()).toMatchObject({ status: expect.stringMatching(/^(ok|degraded|down)$/) });
    });

    it('sends the extra headers and the user agent, and the token only as a bearer', async () => {
      const client = server.clientWith(server.ownerSecret, {
        headers: { 'x-request-id': 'req-42' },
        userAgent: 'ci/1.0',
      });
      const before = server.requests.length;
      await client.kv.list();
      const sent = server.requests[before];
      expect(sent?.headers.get('authorization')).toBe(`Bearer ${server.ownerSecret}`);
      expect(sent?.headers.get('user-agent')).toBe('ci/1.0');
      expect(sent?.headers.get('x-request-id')).toBe('req-42');
      const error = await client.kv.get('nothing/here').catch((e: unknown) => e);
      expect(isApiError(error, 'NOT_FOUND') && error.requestId).toBe('req-42');
    });
  });
}

describe('sdk error mapping', () => {
  const clientAnswering = (answer: () => Response | Promise<Response>) =>
    createClient({ baseUrl: 'http://proserver.test/', token: 't', fetch: async () => answer() });

  it('falls back to HTTP_<status> for a response that is not a problem document', async () => {
    const client = clientAnswering(
      () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'x-request-id': 'proxy-1' } }),
    );
    const error = await client.kv.get('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 502, code: 'HTTP_502', requestId: 'proxy-1' });
    expect((error as ApiError).detail).toContain('Bad gateway');
  });

  it('turns a failed fetch into NETWORK_ERROR with status 0 and the cause', async () => {
    const refused = new TypeError('fetch failed');
    const client = createClient({
      baseUrl: 'http://proserver.test',
      fetch: async () => {
        throw refused;
      },
    });
    const error = await client.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ApiError', status: 0, code: 'NETWORK_ERROR' });
    expect((error as ApiError).cause).toBe(refused);
  });

  it('reports a 2xx body that is not JSON as INVALID_RESPONSE', async () => {
    const error = await clientAnswering(() => new Response('not json', { status: 200 }))
      .kv.get('a')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 200, code: 'INVALID_RESPONSE' });
  });

  it('answers the health of a server that reports itself down (503) instead of throwing', async () => {
    const client = clientAnswering(() => Response.json({ status: 'down', version: '1.2.3' }, { status: 503 }));
    expect(await client.health()).toEqual({ status: 'down', version: '1.2.3' });
  });

  it('keeps field errors of a problem document and strips the base URL slash', async () => {
    const urls: string[] = [];
    const client = createClient({
      baseUrl: 'http://proserver.test/prefix/',
      fetch: async (input) => {
        urls.push(String(input));
        return Response.json(
          {
            type: 'about:blank',
            title: 'Bad',
            status: 400,
            detail: 'bad key',
            code: 'VALIDATION_FAILED',
            requestId: 'r1',
            errors: [{ path: 'key', message: 'bad' }],
          },
          { status: 400, headers: { 'content-type': 'application/problem+json' } },
        );
      },
    });
    const error = await client.kv.create({ key: 'x', value: 1 }).catch((e: unknown) => e);
    expect(urls).toEqual(['http://proserver.test/prefix/api/key-value']);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'bad key', requestId: 'r1', title: 'Bad' });
    expect((error as ApiError).errors).toEqual([{ path: 'key', message: 'bad' }]);
  });

  it('puts the API under basePath and health at the root', async () => {
    const urls: string[] = [];
    const client = createClient({
      baseUrl: 'http://proserver.test',
      basePath: '/sfp/api/',
      fetch: async (input) => {
        urls.push(String(input));
        return String(input).endsWith('/ping') ? new Response('pong') : Response.json({ status: 'ok', version: '1' });
      },
    });
    await client.ping();
    await client.health();
    expect(urls).toEqual(['http://proserver.test/sfp/api/ping', 'http://proserver.test/health']);
  });

  it('tells ApiErrors apart by name and code', () => {
    const error = new ApiError({ status: 404, code: 'NOT_FOUND', detail: 'gone' });
    expect(isApiError(error)).toBe(true);
    expect(isApiError(error, 'NOT_FOUND')).toBe(true);
    expect(isApiError(error, 'FORBIDDEN')).toBe(false);
    expect(isApiError(new Error('x'))).toBe(false);
    expect(isApiError({ name: 'ApiError', code: 'NOT_FOUND' }, 'NOT_FOUND')).toBe(true);
  });
});
