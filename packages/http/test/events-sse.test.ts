/**
 * `GET /api/events/stream` (SSE) on a real listening server: ids are seqs, resume with
 * `Last-Event-ID` or `?since=`, bad requests are problems, keep-alive comments, revocation, token expiry
 * and slow consumers end the stream with a `close` event.
 */
import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames, waitUntil } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventsHarness, startEventsServer } from './support/events-harness.js';
import { expectProblem } from './support/harness.js';
import { readSse, type SseMessage } from './support/sse-reader.js';

const isData = (message: SseMessage) => message.data !== undefined && message.event === undefined;

describe.each(testBackendNames())('SSE /api/events/stream on %s', (backend) => {
  let h: EventsHarness;
  const stream = (query: string, headers: Record<string, string> = {}, token?: string) =>
    fetch(`${h.server.url}/api/events/stream?${query}`, {
      headers: { Authorization: `Bearer ${token ?? h.owner}`, ...headers },
    });

  beforeAll(async () => {
    h = await startEventsServer(backend, { realtime: { sseHeartbeatIntervalMs: 30 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('streams matching events with id = seq, and keep-alive comments', async () => {
    const response = await stream('topics=kv:sse-live/*');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('no-cache');
    const sse = readSse(response);
    expect((await sse.next()).retry).toBe('2000');
    await h.core.kv.upsert({ key: 'sse-live/a', value: 1 });
    await h.core.kv.upsert({ key: 'other/a', value: 1 });
    await h.core.kv.upsert({ key: 'sse-live/b', value: 2 });
    const first = await sse.next(isData);
    const second = await sse.next(isData);
    const [a, b] = [JSON.parse(first.data as string), JSON.parse(second.data as string)];
    expect(a).toMatchObject({ type: 'kv.set', subject: 'sse-live/a' });
    expect(b).toMatchObject({ type: 'kv.set', subject: 'sse-live/b' });
    expect(first.id).toBe(String(a.seq));
    expect(second.id).toBe(String(b.seq));
    await sse.next((message) => message.comments.includes('keep-alive'), 'a keep-alive comment');
    await sse.cancel();
  });

  it('resumes after Last-Event-ID (which wins over ?since=), or after ?since=', async () => {
    for (const key of ['resume/a', 'resume/b', 'resume/c']) await h.core.kv.upsert({ key, value: key });
    const { items } = await h.core.events.read(SYSTEM_PRINCIPAL, { topics: ['kv:resume/*'], after: 0 });
    const seqs = items.map((event) => event.seq);

    const resumed = readSse(await stream('topics=kv:resume/*&since=0', { 'Last-Event-ID': String(seqs[0]) }));
    expect((await resumed.next(isData)).id).toBe(String(seqs[1]));
    expect((await resumed.next(isData)).id).toBe(String(seqs[2]));
    await resumed.cancel();

    const fromSince = readSse(await stream(`topics=kv:resume/*&since=${seqs[1]}`));
    expect((await fromSince.next(isData)).id).toBe(String(seqs[2]));
    await fromSince.cancel();
  });

  it('answers bad requests with problems before streaming', async () => {
    await expectProblem(await stream(''), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=a,,b'), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=tasks&since=-1'), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=tasks&since=abc'), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=tasks&sinse=1'), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=tasks', { 'Last-Event-ID': 'evt_1' }), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=nonsense:x'), 400, 'VALIDATION_FAILED');
    await expectProblem(await stream('topics=tasks', {}, 'prs_garbage'), 401, 'UNAUTHENTICATED');
    const post = await fetch(`${h.server.url}/api/events/stream?topics=tasks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${h.owner}` },
    });
    await expectProblem(post, 405, 'METHOD_NOT_ALLOWED');
  });

  it('ends the stream with a close event when the token is revoked', async () => {
    const reader = await h.tokenWith(['kv:read']);
    const sse = readSse(await stream('topics=kv:revoked/*', {}, reader.secret));
    await sse.next((message) => message.retry !== undefined);
    await h.core.tokens.revoke(SYSTEM_PRINCIPAL, reader.id);
    const close = await sse.next((message) => message.event === 'close', 'a close event');
    expect(JSON.parse(close.data as string)).toEqual({ reason: 'token revoked' });
    await sse.ended;
  });

  it('only streams events the token may read', async () => {
    const reader = await h.tokenWith(['kv:read:sse-a/*']);
    const sse = readSse(await stream('topics=kv:**', {}, reader.secret));
    await sse.next((message) => message.retry !== undefined);
    await h.core.kv.upsert({ key: 'sse-b/x', value: 1 });
    await h.core.kv.upsert({ key: 'sse-a/x', value: 1 });
    expect(JSON.parse((await sse.next(isData)).data as string)).toMatchObject({ subject: 'sse-a/x' });
    expect(sse.messages.filter(isData)).toEqual([]);
    await sse.cancel();
  });
});

describe('SSE beyond retention (memory)', () => {
  it('answers a Last-Event-ID older than retention with 410 EVENTS_EXPIRED', async () => {
    const h = await startEventsServer('memory', { events: { retentionMs: 60_000, purgeIntervalMs: 0 } });
    try {
      for (let i = 0; i < 3; i++) await h.core.kv.upsert({ key: `old/${i}`, value: i });
      // Number the events first: only numbered events are purged (the sequencer runs after commit).
      await h.core.events.flush();
      h.clock.advance(120_000);
      await h.core.events.purgeExpired();
      await h.core.kv.upsert({ key: 'new/1', value: 1 });
      const response = await fetch(`${h.server.url}/api/events/stream?topics=kv:**`, {
        headers: { Authorization: `Bearer ${h.owner}`, 'Last-Event-ID': '1' },
      });
      await expectProblem(response, 410, 'EVENTS_EXPIRED');
    } finally {
      await h.close();
    }
  });
});

describe('SSE token expiry (memory)', () => {
  it('ends the stream with a close event once its token has expired, without the event that found it', async () => {
    const h = await startEventsServer('memory');
    try {
      const reader = await h.core.tokens.create(SYSTEM_PRINCIPAL, {
        name: 'sse',
        expiresInDays: 1,
        scopes: ['kv:read'],
      });
      const sse = readSse(
        await fetch(`${h.server.url}/api/events/stream?topics=kv:expiry/*`, {
          headers: { Authorization: `Bearer ${reader.secret}` },
        }),
      );
      await sse.next((message) => message.retry !== undefined);
      h.clock.advance(24 * 3600 * 1000);
      await h.core.kv.upsert({ key: 'expiry/after', value: 1 });
      const close = await sse.next((message) => message.event === 'close', 'a close event');
      expect(JSON.parse(close.data as string)).toEqual({ reason: 'token expired' });
      await sse.ended;
      expect(sse.messages.filter(isData)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('SSE slow consumer (memory)', () => {
  let h: EventsHarness;
  beforeAll(async () => {
    h = await startEventsServer('memory', { realtime: { maxBufferedBytes: 256 * 1024 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('ends the stream of a consumer that stops reading instead of buffering without bound', async () => {
    const response = await fetch(`${h.server.url}/api/events/stream?topics=events:custom.slow`, {
      headers: { Authorization: `Bearer ${h.owner}` },
    });
    expect(response.status).toBe(200);
    // Large events (key-value events do not carry big values), so the buffers fill quickly.
    const value = 'x'.repeat(60 * 1024);
    const slowLine = () => h.logs.some((line) => line.message === 'event stream closed: slow consumer');
    // Nobody reads the body: the socket buffers fill, then the stream's own queue passes the bound.
    for (let i = 0; i < 2000 && !slowLine(); i++)
      await h.core.events.publish(SYSTEM_PRINCIPAL, { type: 'custom.slow', data: value });
    await waitUntil(slowLine, 'the server to give up on the slow SSE consumer');
    const text = await response.text();
    expect(text.trimEnd().endsWith('event: close\ndata: {"reason":"slow consumer"}')).toBe(true);
  });
});
