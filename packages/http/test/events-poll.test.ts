/** `GET /api/events` (polling), in process: pages, `nextAfter`, visibility, bad queries. */
import { SYSTEM_PRINCIPAL } from '@proserver/core';
import { testBackendNames } from '@proserver/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventsServer } from './support/events-harness.js';
import { createHarness, expectProblem, type Harness } from './support/harness.js';

describe.each(testBackendNames())('GET /api/events on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
    for (let i = 1; i <= 5; i++) await h.core.kv.upsert({ key: `poll/${i}`, value: i });
    await h.core.kv.upsert({ key: 'hidden/1', value: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('pages through matching events in seq order with after and nextAfter', async () => {
    const first = await h.call('GET', '/api/events?topics=kv:poll/*&limit=3');
    expect(first.status).toBe(200);
    const page1 = await first.json();
    expect(page1.items.map((event: { subject: string }) => event.subject)).toEqual(['poll/1', 'poll/2', 'poll/3']);
    expect(page1.nextAfter).toBe(page1.items[2].seq);
    const page2 = await (await h.call('GET', `/api/events?topics=kv:poll/*&after=${page1.nextAfter}`)).json();
    expect(page2.items.map((event: { subject: string }) => event.subject)).toEqual(['poll/4', 'poll/5']);
    const page3 = await (await h.call('GET', `/api/events?topics=kv:poll/*&after=${page2.nextAfter}`)).json();
    expect(page3.items).toEqual([]);
    expect(page3.nextAfter).toBeGreaterThanOrEqual(page2.nextAfter);
  });

  it('accepts several topics and returns the same events as core', async () => {
    const body = await (await h.call('GET', '/api/events?topics=kv:poll/1,kv:hidden/*')).json();
    expect(body.items.map((event: { subject: string }) => event.subject)).toEqual(['poll/1', 'hidden/1']);
    const direct = await h.core.events.read(SYSTEM_PRINCIPAL, { topics: ['kv:poll/1', 'kv:hidden/*'] });
    expect(body.items).toEqual(direct.items);
  });

  it('shows a narrowed token only what it may read', async () => {
    const token = await h.tokenWith(['kv:read:poll/*']);
    const body = await (await h.call('GET', '/api/events?topics=kv:**', { token })).json();
    expect(body.items.length).toBe(5);
    expect(body.items.every((event: { subject: string }) => event.subject.startsWith('poll/'))).toBe(true);
  });

  it('refuses bad queries with a 400 problem', async () => {
    for (const query of [
      '',
      'topics=',
      'topics=a,,b',
      'topics=tasks&after=-1',
      'topics=tasks&after=1.5',
      'topics=tasks&limit=0',
      'topics=tasks&limit=1001',
      'topics=tasks&limit=ten',
      'topics=tasks&cursor=x',
      'topics=tasks&topics=tasks',
      `topics=${Array.from({ length: 51 }, (_, i) => `task:t${i}`).join(',')}`,
      'topics=nonsense:x',
    ]) {
      await expectProblem(await h.call('GET', `/api/events?${query}`), 400, 'VALIDATION_FAILED');
    }
    await expectProblem(await h.call('GET', '/api/events?topics=tasks', { token: null }), 401, 'UNAUTHENTICATED');
    await expectProblem(await h.call('POST', '/api/events', { json: {} }), 405, 'METHOD_NOT_ALLOWED');
  });

  it('answers an after older than retention with 410 EVENTS_EXPIRED', async () => {
    const r = await startEventsServer(backend, { events: { retentionMs: 60_000, purgeIntervalMs: 0 } });
    const get = (query: string) =>
      fetch(`${r.server.url}/api/events?${query}`, { headers: { Authorization: `Bearer ${r.owner}` } });
    try {
      for (let i = 0; i < 3; i++) await r.core.kv.upsert({ key: `old/${i}`, value: i });
      // Number the events first: only numbered events are purged (the sequencer runs after commit).
      await r.core.events.flush();
      r.clock.advance(120_000);
      await r.core.events.purgeExpired();
      await r.core.kv.upsert({ key: 'new/1', value: 1 });
      await expectProblem(await get('topics=kv:**&after=0'), 410, 'EVENTS_EXPIRED');
      const fromOldest = await (await get('topics=kv:**')).json();
      expect(fromOldest.items.map((event: { subject: string }) => event.subject)).toContain('new/1');
    } finally {
      await r.close();
    }
  });
});
