/**
 * `GET /api/ws` on a real listening server: subscribe / unsubscribe / ping, replay with
 * `since`, malformed messages, both ways to authenticate, refusals before the upgrade,
 * revocation, token expiry, permission filtering, slow consumers, heartbeats and shutdown.
 */
import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames, waitUntil } from '@proserver/core/testing';
import { createApp } from '@proserver/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EventsHarness,
  openSocket,
  refusedStatus,
  type ServerMessage,
  startEventsServer,
} from './support/events-harness.js';
import { describeTwoProcesses } from './support/events-two-processes.js';

const isEvent = (id: unknown) => (message: ServerMessage) => message.type === 'event' && message.id === id;
const isType = (type: string, id?: unknown) => (message: ServerMessage) =>
  message.type === type && (id === undefined || message.id === id);

describe.each(testBackendNames())('WebSocket /api/ws on %s', (backend) => {
  let h: EventsHarness;
  beforeAll(async () => {
    h = await startEventsServer(backend);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers ping with pong, subscribes, delivers events in seq order, and unsubscribes', async () => {
    const ws = await openSocket(h.wsUrl, { token: h.owner });
    ws.send({ type: 'ping' });
    expect(await ws.next()).toEqual({ type: 'pong' });

    ws.send({ type: 'subscribe', id: 'one', topics: ['kv:live/*'] });
    ws.send({ type: 'subscribe', id: 2, topics: ['kv:live/**'] });
    expect(await ws.next(isType('subscribed', 'one'))).toMatchObject({ type: 'subscribed', id: 'one' });
    await ws.next(isType('subscribed', 2));

    await h.core.kv.upsert({ key: 'live/a', value: 1 });
    await h.core.kv.upsert({ key: 'live/b', value: 2 });
    const first = await ws.next(isEvent('one'));
    const second = await ws.next(isEvent('one'));
    expect(first.event).toMatchObject({ type: 'kv.set', subject: 'live/a' });
    expect(second.event).toMatchObject({ type: 'kv.set', subject: 'live/b' });
    expect(second.seq).toBeGreaterThan(first.seq as number);
    expect(first.seq).toBe(first.event?.seq);
    await ws.next(isEvent(2));
    await ws.next(isEvent(2));

    ws.send({ type: 'unsubscribe', id: 'one' });
    // Messages are handled in order and unsubscribe takes effect at once: the pong marks it done.
    ws.send({ type: 'ping' });
    await ws.next(isType('pong'));
    await h.core.kv.upsert({ key: 'live/c', value: 3 });
    await h.core.kv.upsert({ key: 'live/d', value: 4 });
    // Subscription 2 sees both; by then "one" would have seen live/c had it still been live.
    expect((await ws.next(isEvent(2))).event).toMatchObject({ subject: 'live/c' });
    expect((await ws.next(isEvent(2))).event).toMatchObject({ subject: 'live/d' });
    expect(ws.received.filter(isEvent('one'))).toEqual([]);

    ws.send({ type: 'unsubscribe', id: 'one' });
    expect(await ws.next(isType('error'))).toMatchObject({ id: 'one', code: 'NOT_FOUND' });
    ws.socket.close();
  });

  it('replays from since, with subscribed before the replayed events', async () => {
    const seqs: number[] = [];
    for (const key of ['replay/a', 'replay/b', 'replay/c']) {
      await h.core.kv.upsert({ key, value: key });
    }
    const page = await h.core.events.read(SYSTEM_PRINCIPAL, { topics: ['kv:replay/*'], after: 0 });
    seqs.push(...page.items.map((event) => event.seq));
    expect(seqs).toHaveLength(3);

    const ws = await openSocket(h.wsUrl, { token: h.owner });
    ws.send({ type: 'subscribe', id: 'r', topics: ['kv:replay/*'], since: seqs[0] });
    await waitUntil(() => ws.received.length >= 3, 'the subscription and two replayed events');
    const [subscribed, ...replayed] = ws.received.slice(0, 3);
    expect(subscribed).toMatchObject({ type: 'subscribed', id: 'r', seq: seqs[0] });
    expect(replayed.map((message) => [message.type, message.seq])).toEqual([
      ['event', seqs[1]],
      ['event', seqs[2]],
    ]);
    ws.socket.close();
  });

  it('answers every malformed message with an error and keeps serving the socket', async () => {
    const ws = await openSocket(h.wsUrl, { token: h.owner });
    const cases: [unknown, string, unknown?][] = [
      ['{not json', 'MALFORMED_JSON'],
      ['[1,2]', 'VALIDATION_FAILED'],
      [{ type: 'dance' }, 'VALIDATION_FAILED'],
      [{ id: 'x' }, 'VALIDATION_FAILED', 'x'],
      [{ type: 'subscribe', topics: ['tasks'] }, 'VALIDATION_FAILED'],
      [{ type: 'subscribe', id: '', topics: ['tasks'] }, 'VALIDATION_FAILED'],
      [{ type: 'subscribe', id: 'a', topics: [] }, 'VALIDATION_FAILED', 'a'],
      [{ type: 'subscribe', id: 'b', topics: 'tasks' }, 'VALIDATION_FAILED', 'b'],
      [{ type: 'subscribe', id: 'c', topics: [7] }, 'VALIDATION_FAILED', 'c'],
      [{ type: 'subscribe', id: 'd', topics: ['tasks'], since: -1 }, 'VALIDATION_FAILED', 'd'],
      [{ type: 'subscribe', id: 'e', topics: ['tasks'], sinse: 3 }, 'VALIDATION_FAILED', 'e'],
      [
        { type: 'subscribe', id: 'f', topics: Array.from({ length: 51 }, (_, i) => `task:t${i}`) },
        'VALIDATION_FAILED',
        'f',
      ],
      [{ type: 'unsubscribe' }, 'VALIDATION_FAILED'],
      [{ type: 'ping', extra: true }, 'VALIDATION_FAILED'],
      [JSON.stringify({ type: 'ping', pad: 'x'.repeat(70 * 1024) }), 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [message, code, id] of cases) {
      ws.send(message);
      const error = await ws.next(isType('error'), `an error for ${String(JSON.stringify(message)).slice(0, 80)}`);
      expect(error).toMatchObject({ type: 'error', code });
      expect(typeof error.message).toBe('string');
      expect(error.id).toBe(id);
    }
    ws.socket.send(Buffer.from([1, 2, 3]));
    expect(await ws.next(isType('error'))).toMatchObject({ code: 'VALIDATION_FAILED' });

    // A topic core does not understand is refused by core, for that subscription id only.
    ws.send({ type: 'subscribe', id: 'bad-topic', topics: ['nonsense:x'] });
    expect(await ws.next(isType('error'))).toMatchObject({ id: 'bad-topic', code: 'VALIDATION_FAILED' });

    ws.send({ type: 'subscribe', id: 'dup', topics: ['tasks'] });
    await ws.next(isType('subscribed', 'dup'));
    ws.send({ type: 'subscribe', id: 'dup', topics: ['tasks'] });
    expect(await ws.next(isType('error'))).toMatchObject({ id: 'dup', code: 'ALREADY_EXISTS' });

    ws.send({ type: 'ping' });
    expect(await ws.next()).toEqual({ type: 'pong' });
    expect(ws.socket.readyState).toBe(ws.socket.OPEN);
    ws.socket.close();
  });

  it('authenticates with the bearer subprotocol, answering proserver.v1 and never the token', async () => {
    const ws = await openSocket(h.wsUrl, { protocols: ['proserver.v1', `bearer.${h.owner}`] });
    expect(ws.socket.protocol).toBe('proserver.v1');
    ws.send({ type: 'ping' });
    expect(await ws.next()).toEqual({ type: 'pong' });
    ws.socket.close();

    const reversed = await openSocket(h.wsUrl, { protocols: [`bearer.${h.owner}`, 'proserver.v1'] });
    expect(reversed.socket.protocol).toBe('proserver.v1');
    reversed.socket.close();
    expect(JSON.stringify(h.logs)).not.toContain(h.owner);
  });

  it('refuses a missing, garbled, revoked or unusable token with an HTTP error before the upgrade', async () => {
    const revoked = await h.tokenWith(['kv:read']);
    await h.core.tokens.revoke(SYSTEM_PRINCIPAL, revoked.id);
    expect(await refusedStatus(h.wsUrl, {})).toBe(401);
    expect(await refusedStatus(h.wsUrl, { token: 'prs_garbage' })).toBe(401);
    expect(await refusedStatus(h.wsUrl, { token: revoked.secret })).toBe(401);
    expect(await refusedStatus(h.wsUrl, { protocols: ['proserver.v1', 'bearer.prs_nope'] })).toBe(401);
    expect(await refusedStatus(h.wsUrl, { protocols: [`bearer.${h.owner}`] })).toBe(400);
    expect(await refusedStatus(h.wsUrl, { token: h.owner })).toBe(101);
  });

  it('answers plain HTTP on /api/ws with a problem, and an in-process app with 503', async () => {
    const plain = await fetch(h.wsUrl.replace('ws:', 'http:'), { headers: { Authorization: `Bearer ${h.owner}` } });
    expect(plain.status).toBe(400);
    expect((await plain.json()).code).toBe('VALIDATION_FAILED');
    const anonymous = await fetch(h.wsUrl.replace('ws:', 'http:'));
    expect(anonymous.status).toBe(401);

    const inProcess = await createApp(h.core).request('/api/ws', {
      headers: { Authorization: `Bearer ${h.owner}`, Upgrade: 'websocket', Connection: 'Upgrade' },
    });
    expect(inProcess.status).toBe(503);
    expect((await inProcess.json()).code).toBe('UNAVAILABLE');
  });

  it('closes the socket with 4001 when its token is revoked', async () => {
    const reader = await h.tokenWith(['kv:read']);
    const ws = await openSocket(h.wsUrl, { token: reader.secret });
    ws.send({ type: 'subscribe', id: 's', topics: ['kv:revoke/*'] });
    await ws.next(isType('subscribed'));
    await h.core.tokens.revoke(SYSTEM_PRINCIPAL, reader.id);
    expect(await ws.closed).toEqual({ code: 4001, reason: 'token revoked' });
  });

  it('closes with 4001 a socket with nothing subscribed when its token is revoked', async () => {
    const reader = await h.tokenWith(['kv:read']);
    const ws = await openSocket(h.wsUrl, { token: reader.secret });
    ws.send({ type: 'ping' });
    await ws.next(isType('pong'));
    await h.core.tokens.revoke(SYSTEM_PRINCIPAL, reader.id);
    expect(await ws.closed).toEqual({ code: 4001, reason: 'token revoked' });
  });

  it('delivers only the events the token may read (kv:read:a/* never sees b/)', async () => {
    const reader = await h.tokenWith(['kv:read:perm-a/*']);
    const ws = await openSocket(h.wsUrl, { token: reader.secret });
    ws.send({ type: 'subscribe', id: 'p', topics: ['kv:**'] });
    await ws.next(isType('subscribed'));
    await h.core.kv.upsert({ key: 'perm-b/secret', value: 'no' });
    await h.core.kv.upsert({ key: 'perm-a/open', value: 'yes' });
    const seen = await ws.next(isEvent('p'));
    // Events arrive in seq order: had perm-b been visible, it would have come first.
    expect(seen.event).toMatchObject({ subject: 'perm-a/open' });
    expect(ws.received.filter((message) => message.type === 'event')).toEqual([]);
    ws.socket.close();
  });

  it('closes the socket with 1001 when the server shuts down', async () => {
    const other = await startEventsServer(backend);
    const ws = await openSocket(other.wsUrl, { token: other.owner });
    ws.send({ type: 'subscribe', id: 's', topics: ['tasks'] });
    await ws.next(isType('subscribed'));
    await other.close();
    expect((await ws.closed).code).toBe(1001);
  });
});

describe('WebSocket limits (memory)', () => {
  let h: EventsHarness;
  beforeAll(async () => {
    h = await startEventsServer('memory', {
      realtime: { maxBufferedBytes: 256 * 1024, maxSubscriptionsPerSocket: 2 },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('disconnects a consumer that stops reading with 4008 instead of buffering without bound', async () => {
    const ws = await openSocket(h.wsUrl, { token: h.owner });
    ws.send({ type: 'subscribe', id: 'slow', topics: ['events:custom.slow'] });
    await ws.next(isType('subscribed'));
    ws.socket.pause();
    // Large events (key-value events do not carry big values), so the buffers fill quickly.
    const value = 'x'.repeat(60 * 1024);
    const slowLine = () => h.logs.some((line) => line.message === 'websocket closed: slow consumer');
    // Bounded: the kernel's socket buffers absorb a few MiB before the server's own buffer grows.
    for (let i = 0; i < 2000 && !slowLine(); i++)
      await h.core.events.publish(SYSTEM_PRINCIPAL, { type: 'custom.slow', data: value });
    await waitUntil(slowLine, 'the server to give up on the slow consumer');
    ws.socket.resume();
    expect(await ws.closed).toEqual({ code: 4008, reason: 'slow consumer' });
  });

  it('pings every socket and terminates one that stops answering', async () => {
    const fast = await startEventsServer('memory', { realtime: { heartbeatIntervalMs: 40 } });
    const live = await openSocket(fast.wsUrl, { token: fast.owner });
    let pings = 0;
    live.socket.on('ping', () => pings++);
    const silent = await openSocket(fast.wsUrl, { token: fast.owner, autoPong: false });
    expect((await silent.closed).code).toBe(1006);
    await waitUntil(() => pings >= 3, 'three heartbeat pings');
    expect(live.socket.readyState).toBe(live.socket.OPEN);
    expect(fast.logs.some((line) => line.message === 'websocket terminated: no answer to heartbeat pings')).toBe(true);
    await fast.close();
  });

  it('limits the subscriptions per socket', async () => {
    const ws = await openSocket(h.wsUrl, { token: h.owner });
    for (const id of ['a', 'b']) {
      ws.send({ type: 'subscribe', id, topics: ['tasks'] });
      await ws.next(isType('subscribed', id));
    }
    ws.send({ type: 'subscribe', id: 'c', topics: ['tasks'] });
    expect(await ws.next(isType('error'))).toMatchObject({ id: 'c', code: 'VALIDATION_FAILED' });
    ws.send({ type: 'unsubscribe', id: 'a' });
    ws.send({ type: 'subscribe', id: 'c', topics: ['tasks'] });
    await ws.next(isType('subscribed', 'c'));
    ws.socket.close();
  });
});

describe.each(testBackendNames())('WebSocket replay beyond retention on %s', (backend) => {
  it('answers a since older than retention with EVENTS_EXPIRED, and still serves the socket', async () => {
    const h = await startEventsServer(backend, { events: { retentionMs: 60_000, purgeIntervalMs: 0 } });
    try {
      for (let i = 0; i < 3; i++) await h.core.kv.upsert({ key: `old/${i}`, value: i });
      // Number the events first: only numbered events are purged (the sequencer runs after commit).
      await h.core.events.flush();
      h.clock.advance(120_000);
      expect(await h.core.events.purgeExpired()).toBeGreaterThan(0);
      await h.core.kv.upsert({ key: 'new/1', value: 1 });
      const ws = await openSocket(h.wsUrl, { token: h.owner });
      ws.send({ type: 'subscribe', id: 'old', topics: ['kv:**'], since: 0 });
      expect(await ws.next(isType('error'))).toMatchObject({ id: 'old', code: 'EVENTS_EXPIRED' });
      ws.send({ type: 'subscribe', id: 'old', topics: ['kv:**'] });
      await ws.next(isType('subscribed', 'old'));
      ws.socket.close();
    } finally {
      await h.close();
    }
  });
});

describe.each(testBackendNames())('WebSocket token expiry on %s', (backend) => {
  it('closes the socket with 4001 once its token has expired, without delivering the event that found it', async () => {
    const h = await startEventsServer(backend);
    try {
      const reader = await h.tokenWith(['kv:read'], 1);
      const ws = await openSocket(h.wsUrl, { token: reader.secret });
      ws.send({ type: 'subscribe', id: 's', topics: ['kv:expiry/*'] });
      await ws.next(isType('subscribed'));
      await h.core.kv.upsert({ key: 'expiry/before', value: 1 });
      expect((await ws.next(isEvent('s'))).event).toMatchObject({ subject: 'expiry/before' });
      h.clock.advance(24 * 3600 * 1000);
      await h.core.kv.upsert({ key: 'expiry/after', value: 2 });
      expect(await ws.closed).toEqual({ code: 4001, reason: 'token expired' });
      // The first event was taken above: nothing else came.
      expect(ws.received.filter(isEvent('s'))).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

// Real server processes sharing one PostgreSQL database: only with a PostgreSQL server.
if (process.env.DATABASE_URL) describeTwoProcesses(process.env.DATABASE_URL);
