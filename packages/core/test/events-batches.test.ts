import { createCore, type Principal, type ProServerEvent } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { Collector } from '@proserver/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SYSTEM: Principal = { kind: 'system' };

/**
 * `onBatch` (for transports that fan out to many subscribers): live events handed out together
 * arrive in one call, the same array for every subscription that sees the same events;
 * replayed events still go to the handler one by one.
 */
describe('subscriptions with onBatch', () => {
  let core: ReturnType<typeof createCore>;
  beforeEach(() => {
    core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 }, events: { pollIntervalMs: 0 } });
  });
  afterEach(() => core.close());

  it('receive the events of one dispatch in one call, sharing the array, after the replay', async () => {
    await core.events.publish(SYSTEM, { type: 'custom.before', data: 0 });
    const replayed = new Collector();
    const batches: (readonly ProServerEvent[])[][] = [[], []];
    const subscribe = (n: 0 | 1, handler: (event: ProServerEvent) => void) =>
      core.events.subscribe(SYSTEM, ['events:custom.*'], handler, {
        since: 0,
        onBatch: (events) => batches[n]?.push(events),
      });
    await subscribe(0, replayed.handler);
    await subscribe(1, () => {});
    expect(replayed.events.map((event) => event.type)).toEqual(['custom.before']);

    // Published in one turn: one append, one dispatch.
    await Promise.all([1, 2, 3].map((n) => core.events.publish(SYSTEM, { type: `custom.n${n}`, data: n })));
    await core.events.flush();
    await expect.poll(() => batches[0]?.length).toBe(1);
    await expect.poll(() => batches[1]?.length).toBe(1);
    const [first] = batches[0] ?? [];
    expect(first?.map((event) => event.type)).toEqual(['custom.n1', 'custom.n2', 'custom.n3']);
    expect(batches[1]?.[0]).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(replayed.events).toHaveLength(1);
  });

  it('refuse an onBatch that is not a function, subscribing nothing', async () => {
    const onBatch = 'send' as unknown as (events: readonly ProServerEvent[]) => void;
    await expect(core.events.subscribe(SYSTEM, ['events:custom.*'], () => {}, { onBatch })).rejects.toThrow(
      'onBatch must be a function',
    );
  });
});
