import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/types.js';
import { Subscription } from '../src/events/subscription.js';
import { EventTailer } from '../src/events/tailer.js';
import { parseTopics } from '../src/events/topics.js';
import type { ProServerEvent } from '../src/events/types.js';
import { silentLogger } from '../src/logger.js';
import { createMemoryStorage } from '../src/storage/memory/index.js';
import { ManualClock } from '../src/testing/manual-clock.js';

const token = (scopes: string[]): Principal => ({
  kind: 'token',
  tokenId: 'tok_1',
  userId: 'usr_1',
  role: 'owner',
  scopes,
});

/**
 * The tailer matches each event once per group of subscriptions with the same topics and
 * visibility. A principal that changes (its user's role) must move its subscription to the
 * right group at once: otherwise it would keep seeing what its old group sees.
 */
describe('event dispatch by groups of equal subscriptions', () => {
  const storage = createMemoryStorage();
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');
  const tailer = new EventTailer({
    store: storage.events,
    notifier: storage.notifier,
    clock,
    logger: silentLogger,
    pollIntervalMs: 0,
  });
  afterEach(() => tailer.stop());

  function subscribe(principal: Principal, received: string[]): Subscription {
    const subscription = new Subscription({
      principal,
      topics: parseTopics(['kv:**']),
      handler: (event: ProServerEvent) => received.push(event.subject),
      onEnd: undefined,
      cursor: tailer.lastSeq,
      expiresAtMs: null,
      logger: silentLogger,
      detach: (s) => tailer.leave(s),
      onMatchKeyChange: (s, before) => tailer.regroup(s, before),
    });
    return subscription;
  }

  let n = 0;
  async function append(subject: string): Promise<void> {
    n += 1;
    await storage.events.append([
      { id: `evt_${n}`, type: 'kv.set', subject, data: { key: subject }, actor: null, at: clock.now() },
    ]);
    await tailer.catchUp();
  }

  it('moves a subscription whose principal narrows to a group of its own', async () => {
    await tailer.start();
    const narrowed: string[] = [];
    const unchanged: string[] = [];
    const first = subscribe(token(['kv:read']), narrowed);
    const second = subscribe(token(['kv:read']), unchanged);
    expect(first.matchKey).toBe(second.matchKey);
    await tailer.join(first);
    await tailer.join(second);

    await append('b/1');
    first.principal = token(['kv:read:a/*']);
    expect(first.matchKey).not.toBe(second.matchKey);
    await append('b/2');
    await append('a/1');

    expect(unchanged).toEqual(['b/1', 'b/2', 'a/1']);
    expect(narrowed).toEqual(['b/1', 'a/1']);
  });
});
