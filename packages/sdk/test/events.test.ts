/**
 * `client.events` and `client.tasks.wait` over a real listening server, with the `ws`
 * package's WebSocket (Node 20 has no global one): subscribe, reconnect after the server
 * drops every socket, resume without gaps or duplicates, refusals, polling, and waiting for
 * a task over the WebSocket with its fallback to polling.
 */
import { type Core, createCore, ECHO_TASK_TYPE } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { waitUntil } from '@proserver/core/testing';
import { type RunningServer, startServer } from '@proserver/http';
import {
  type ApiError,
  createClient,
  type ProServerClient,
  type ProServerEvent,
  type TaskStatusView,
} from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { startInProcess } from './support/in-process.js';

describe('client.events over a listening server', () => {
  let core: Core;
  let server: RunningServer;
  let port: number;
  let owner: string;
  let client: ProServerClient;
  let sockets = 0;
  // Counts the sockets the SDK opens, so the tests see that it really used the WebSocket.
  const CountingWebSocket = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets++;
    }
  };

  beforeAll(async () => {
    for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete process.env[name];
    core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 } });
    owner = (await core.auth.bootstrap()).secret as string;
    server = await startServer({ core, port: 0, hostname: '127.0.0.1' });
    port = server.port;
    client = createClient({ baseUrl: server.url, token: owner, WebSocket: CountingWebSocket });
  });
  afterAll(async () => {
    await server?.close();
    await core?.close();
  });

  it('subscribes, delivers events in order and tracks lastSeq', async () => {
    const seen: ProServerEvent[] = [];
    let confirmed = 0;
    const sub = client.events.subscribe(['kv:sdk/*'], (event) => seen.push(event), {
      onSubscribed: () => confirmed++,
    });
    await waitUntil(() => confirmed === 1, 'the subscription to be confirmed');
    await client.kv.upsert({ key: 'sdk/a', value: 1 });
    await client.kv.upsert({ key: 'sdk/b', value: 2 });
    await waitUntil(() => seen.length === 2, 'two events');
    expect(seen.map((event) => [event.type, event.subject])).toEqual([
      ['kv.set', 'sdk/a'],
      ['kv.set', 'sdk/b'],
    ]);
    expect(sub.lastSeq).toBe(seen[1]?.seq);
    sub.close();
    expect(sub.ended).toBe(true);
  });

  it('reconnects after the server dropped the socket and resumes exactly after the last event', async () => {
    const seen: ProServerEvent[] = [];
    const errors: unknown[] = [];
    let confirmed = 0;
    const sub = client.events.subscribe(['kv:resume/*'], (event) => seen.push(event), {
      onSubscribed: () => confirmed++,
      onError: (error) => errors.push(error),
    });
    await waitUntil(() => confirmed === 1, 'the first subscription');
    await client.kv.upsert({ key: 'resume/1', value: 1 });
    await waitUntil(() => seen.length === 1, 'the first event');

    // The server goes away (closing every socket with 1001) and comes back on the same port;
    // meanwhile two events are written.
    await server.close();
    await core.kv.upsert({ key: 'resume/2', value: 2 });
    await core.kv.upsert({ key: 'resume/3', value: 3 });
    server = await startServer({ core, port, hostname: '127.0.0.1' });

    await waitUntil(() => confirmed >= 2, 'the subscription to come back');
    await client.kv.upsert({ key: 'resume/4', value: 4 });
    await waitUntil(() => seen.length === 4, 'the missed events and the new one');
    expect(seen.map((event) => event.subject)).toEqual(['resume/1', 'resume/2', 'resume/3', 'resume/4']);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ name: 'ApiError', code: 'NETWORK_ERROR' });
    sub.close();
  });

  it('replays from since', async () => {
    await client.kv.upsert({ key: 'since/1', value: 1 });
    await client.kv.upsert({ key: 'since/2', value: 2 });
    const { items } = await client.events.list({ topics: ['kv:since/*'] });
    expect(items.map((event) => event.subject)).toEqual(['since/1', 'since/2']);
    const seen: ProServerEvent[] = [];
    const sub = client.events.subscribe(['kv:since/*'], (event) => seen.push(event), { since: items[0]?.seq });
    await waitUntil(() => seen.length === 1, 'the replayed event');
    expect(seen[0]?.subject).toBe('since/2');
    sub.close();
  });

  it('ends the subscription and reports a refusal: bad topics, bad token', async () => {
    const errors: ApiError[] = [];
    const badTopic = client.events.subscribe(['nonsense:x'], () => {}, {
      onError: (error) => errors.push(error as ApiError),
    });
    await waitUntil(() => badTopic.ended, 'the refusal');
    expect(errors.at(-1)).toMatchObject({ code: 'VALIDATION_FAILED' });

    const stranger = createClient({ baseUrl: server.url, token: 'prs_garbage', WebSocket: CountingWebSocket });
    const refused = stranger.events.subscribe(['tasks'], () => {}, {
      onError: (error) => errors.push(error as ApiError),
    });
    await waitUntil(() => refused.ended, 'the 401');
    expect(errors.at(-1)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('polls with list({topics, after, limit})', async () => {
    const start = (await client.events.list({ topics: ['kv:list/*'] })).nextAfter;
    await client.kv.upsert({ key: 'list/1', value: 1 });
    await client.kv.upsert({ key: 'list/2', value: 2 });
    const first = await client.events.list({ topics: ['kv:list/*'], after: start, limit: 1 });
    expect(first.items.map((event) => event.subject)).toEqual(['list/1']);
    const second = await client.events.list({ topics: ['kv:list/*'], after: first.nextAfter });
    expect(second.items.map((event) => event.subject)).toEqual(['list/2']);
    await expect(client.events.list({ topics: ['kv:list/*'], limit: 0 })).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  });

  it('waits for a task over the WebSocket, reporting its progress', async () => {
    const before = sockets;
    const task = await client.tasks.submit({
      type: ECHO_TASK_TYPE,
      payload: { value: 'ws', progressSteps: 3, delayMs: 90 },
    });
    const seen: TaskStatusView[] = [];
    const final = await client.tasks.wait(task.id, {
      via: 'ws',
      onProgress: (view) => seen.push(view),
      timeoutMs: 20_000,
    });
    expect(final).toMatchObject({ id: task.id, status: 'completed' });
    expect(sockets).toBe(before + 1);
    expect(seen.at(-1)).toMatchObject({ status: 'completed', progress: { percent: 100 } });
    const keys = seen.map((view) => JSON.stringify([view.status, view.progress, view.stage]));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('times out a WebSocket wait with WAIT_TIMEOUT', async () => {
    const task = await client.tasks.submit({ type: ECHO_TASK_TYPE, payload: { delayMs: 5_000 } });
    await expect(client.tasks.wait(task.id, { via: 'ws', timeoutMs: 50 })).rejects.toMatchObject({
      status: 0,
      code: 'WAIT_TIMEOUT',
    });
    await client.tasks.cancel(task.id);
  });
});

describe('client.tasks.wait without a usable WebSocket', () => {
  it('falls back to polling when the socket cannot connect, and refuses via "ws"', async () => {
    const server = await startInProcess('memory');
    try {
      // In process the base URL resolves nowhere: the WebSocket fails, fetch goes to the app.
      const client = server.clientWith(server.ownerSecret, { WebSocket });
      const task = await client.tasks.submit({ type: ECHO_TASK_TYPE, payload: { value: 'fallback' } });
      expect(await client.tasks.wait(task.id, { pollIntervalMs: 10, timeoutMs: 20_000 })).toMatchObject({
        status: 'completed',
      });
      await expect(client.tasks.wait(task.id, { via: 'ws', timeoutMs: 20_000 })).rejects.toMatchObject({
        code: 'NETWORK_ERROR',
      });

      vi.stubGlobal('WebSocket', undefined);
      const bare = server.clientWith(server.ownerSecret);
      expect(bare.events.webSocketAvailable).toBe(false);
      await expect(bare.tasks.wait(task.id, { via: 'ws' })).rejects.toMatchObject({ code: 'WEBSOCKET_UNAVAILABLE' });
      expect(() => bare.events.subscribe(['tasks'], () => {})).toThrow(/WebSocket/);
      expect(await bare.tasks.wait(task.id)).toMatchObject({ status: 'completed' });
    } finally {
      vi.unstubAllGlobals();
      await server.close();
    }
  });
});
