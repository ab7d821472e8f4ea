/**
 * A real core on a test storage, the app in front of it, and helpers to call it in process.
 * Time is a ManualClock; the key-value sweeper is off so nothing runs in the background.
 */
import { type Core, type CoreOptions, createCore, type Storage, SYSTEM_PRINCIPAL } from '@proserver/core';
import { type BackendName, createTestStorage, ManualClock } from '@proserver/core/testing';
import { type AppOptions, createApp } from '@proserver/http';
import { expect } from 'vitest';

export interface CallOptions {
  token?: string | null;
  /** Sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

export interface Harness {
  core: Core;
  clock: ManualClock;
  /** The owner's `*` token (from bootstrap). */
  owner: string;
  app: ReturnType<typeof createApp>;
  call(method: string, path: string, options?: CallOptions): Promise<Response>;
  /** Mints a token for the owner with these scopes. */
  tokenWith(scopes: string[], expiresInDays?: number): Promise<string>;
  close(): Promise<void>;
}

export async function createHarness(
  backend: BackendName,
  options: {
    app?: AppOptions;
    storage?: (storage: Storage) => Storage;
    /** Extra core options (the task engine's settings, for example). */
    core?: Omit<CoreOptions, 'storage' | 'clock'>;
  } = {},
): Promise<Harness> {
  const clock = new ManualClock('2026-03-01T12:00:00.000Z');
  const base = await createTestStorage(backend);
  const storage = options.storage ? options.storage(base) : base;
  const core = createCore({ kv: { sweepIntervalMs: 0 }, ...options.core, storage, clock });
  const boot = await core.auth.bootstrap();
  if (!boot.secret) throw new Error('bootstrap on a fresh storage must return a secret');
  const owner = boot.secret;
  const app = createApp(core, options.app);

  const call: Harness['call'] = async (method, path, callOptions = {}) => {
    const headers: Record<string, string> = { ...callOptions.headers };
    const token = callOptions.token === undefined ? owner : callOptions.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let body = callOptions.body;
    if (callOptions.json !== undefined) {
      headers['Content-Type'] ??= 'application/json';
      body = JSON.stringify(callOptions.json);
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers };
    if (body !== undefined) init.body = body;
    // A stream body (no Content-Length) needs half-duplex in undici's Request.
    if (body instanceof ReadableStream) init.duplex = 'half';
    return app.request(path, init);
  };

  return {
    core,
    clock,
    owner,
    app,
    call,
    async tokenWith(scopes, expiresInDays = 30) {
      const { secret } = await core.tokens.create(SYSTEM_PRINCIPAL, { name: 'test', expiresInDays, scopes });
      return secret;
    },
    close: () => core.close(),
  };
}

/**
 * Checks a problem response: status, code, problem+json, and a requestId equal to the
 * `X-Request-Id` header. Returns the body.
 */
export async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<{ detail: string; errors?: { path: string; message: string }[]; requestId: string }> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text);
  expect(body).toMatchObject({ type: `urn:proserver:error:${code}`, status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.requestId).toBeTruthy();
  expect(body.requestId).toBe(response.headers.get('x-request-id'));
  return body;
}

/** Every entry the core holds (read back directly, not through HTTP). */
export async function allEntries(core: Core): Promise<{ key: string; value: unknown; version: number }[]> {
  const items = [];
  for await (const entry of core.kv.export()) items.push(entry);
  return items;
}

/** A body stream without a Content-Length (chunked on the wire). */
export function streamOf(text: string, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}
