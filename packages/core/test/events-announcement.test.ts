import { describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL, parseAnnouncement } from '../src/events/channels.js';
import { Subscription } from '../src/events/subscription.js';
import { EventTailer } from '../src/events/tailer.js';
import { parseTopics } from '../src/events/topics.js';
import { silentLogger } from '../src/logger.js';
import { createInProcessNotifier } from '../src/storage/memory/notifier.js';
import type { EventRecord, EventStore } from '../src/storage/ports.js';

const AT = '2026-11-28T10:00:00.5+00:00';

function record(seq: number): EventRecord {
  return { id: `evt_${seq}`, seq, type: 'custom.a', subject: 's', data: { seq }, actor: null, at: new Date(AT) };
}

/** The payload a PostgreSQL pass sends for these events (see PgEventStore's announceSql). */
function payloadOf(events: EventRecord[]): string {
  const rows = events.map((e) => [e.id, e.seq, e.type, e.subject, e.data, e.actor, AT]);
  return JSON.stringify({ last: events.at(-1)?.seq, events: rows });
}

describe('parseAnnouncement', () => {
  it('reads a bare seq, and a seq with its events', () => {
    expect(parseAnnouncement('42')).toEqual({ last: 42 });
    expect(parseAnnouncement(payloadOf([record(1), record(2)]))).toEqual({ last: 2, events: [record(1), record(2)] });
  });
  it('keeps the seq of a payload whose events are malformed, and refuses what is no announcement', () => {
    expect(parseAnnouncement(JSON.stringify({ last: 3, events: [['evt_1', 'one']] }))).toEqual({ last: 3 });
    for (const payload of ['', 'x', '-1', '1.5', '{"last":"3"}', '{not json']) {
      expect(parseAnnouncement(payload)).toBeUndefined();
    }
  });
});

/**
 * The tailer dispatches the events a notification carries when they follow its position,
 * without reading the log; a gap (a lost notification) or a bare seq makes it read, so the
 * log stays the source of truth.
 */
describe('the tailer and announcements that carry events', () => {
  async function setUp() {
    const log: EventRecord[] = [];
    const reads: number[] = [];
    const store = {
      bounds: async () => ({ oldest: log[0]?.seq ?? null, last: log.at(-1)?.seq ?? 0 }),
      readAfter: async (after: number, limit: number) => {
        reads.push(after);
        return log.filter((e) => e.seq > after).slice(0, limit);
      },
    } as unknown as EventStore;
    const notifier = createInProcessNotifier();
    const clock = { now: () => new Date() };
    const tailer = new EventTailer({ store, notifier, clock, logger: silentLogger, pollIntervalMs: 0 });
    const received: number[] = [];
    const subscription = new Subscription({
      principal: { kind: 'system' },
      topics: parseTopics(['events:custom.*']),
      handler: (event) => received.push(event.seq),
      onEnd: undefined,
      cursor: 0,
      expiresAtMs: null,
      logger: silentLogger,
      detach: (s) => tailer.leave(s),
    });
    await tailer.join(subscription);
    /** Numbers `count` more events in the log and announces them with `payload`. */
    const number = async (count: number, payload: (events: EventRecord[]) => string) => {
      const events = Array.from({ length: count }, (_, n) => record(log.length + n + 1));
      log.push(...events);
      await notifier.publish(EVENTS_CHANNEL, payload(events));
      // The notification, and a read if one is made, settle within a few turns.
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    /** Numbers `count` more events in the log without announcing them (yet). */
    const numberQuietly = (count: number) => {
      const events = Array.from({ length: count }, (_, n) => record(log.length + n + 1));
      log.push(...events);
      return events;
    };
    return { tailer, notifier, received, reads, number, numberQuietly, log };
  }

  it('hands out the events of an announcement that follows its position without reading', async () => {
    const { tailer, received, reads, number } = await setUp();
    await number(2, payloadOf);
    await number(3, payloadOf);
    expect(received).toEqual([1, 2, 3, 4, 5]);
    expect(tailer.lastSeq).toBe(5);
    expect(reads.filter((after) => after > 0)).toEqual([]);
    await tailer.stop();
  });

  it('dispatches the announcements handled in one turn together, at its end', async () => {
    const { tailer, notifier, received, reads, numberQuietly } = await setUp();
    const first = numberQuietly(2);
    const second = numberQuietly(1);
    await notifier.publish(EVENTS_CHANNEL, payloadOf(first));
    await notifier.publish(EVENTS_CHANNEL, payloadOf(second));
    // Both notifications are handled (microtasks), but nothing is dispatched before the turn ends.
    await Promise.resolve();
    expect(received).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([1, 2, 3]);
    expect(reads.filter((after) => after > 0)).toEqual([]);
    await tailer.stop();
  });

  it('reads the log after a lost announcement, and for an announcement without events', async () => {
    const { received, reads, number, log } = await setUp();
    await number(1, payloadOf);
    // Seq 2 is numbered but its notification is lost; seq 3's arrives with its event only.
    log.push(record(2));
    await number(1, payloadOf);
    expect(received).toEqual([1, 2, 3]);
    expect(reads.at(-1)).toBe(1);
    await number(1, (events) => String(events.at(-1)?.seq));
    expect(received).toEqual([1, 2, 3, 4]);
    expect(reads.at(-1)).toBe(3);
  });
});
