import { createCore, type Principal } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { Collector } from '@proserver/core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const SYSTEM: Principal = { kind: 'system' };

/**
 * With nobody subscribed, the tailer follows the log from the sequencer's announcements (the
 * last seq numbered) instead of querying the log after every write; a later subscription
 * without `since` must still start at the end of the log, not replay what came before it.
 */
describe('the event tailer while nobody listens', () => {
  const storage = createMemoryStorage();
  let reads = 0;
  const { bounds, readAfter } = storage.events;
  storage.events.bounds = (...args) => {
    reads++;
    return bounds.apply(storage.events, args);
  };
  storage.events.readAfter = (...args) => {
    reads++;
    return readAfter.apply(storage.events, args);
  };
  const core = createCore({ storage, kv: { sweepIntervalMs: 0 }, events: { pollIntervalMs: 0 } });
  afterEach(() => core.close());

  it('reads nothing per write, and a new subscription starts after the writes made before it', async () => {
    const first = await core.events.subscribe(SYSTEM, ['kv:idle/**'], () => {});
    await first.close();
    const before = reads;
    for (let i = 0; i < 20; i++) await core.kv.upsert({ key: `idle/${i}`, value: i });
    await core.events.flush();
    expect(reads - before).toBe(0);
    const collector = new Collector();
    const live = await core.events.subscribe(SYSTEM, ['kv:idle/**'], collector.handler);
    await core.kv.upsert({ key: 'idle/new', value: 1 });
    await collector.waitFor(1);
    expect(collector.events.map((event) => event.subject)).toEqual(['idle/new']);
    await live.close();
  });
});
