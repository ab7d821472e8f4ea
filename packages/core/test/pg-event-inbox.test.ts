import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ANNOUNCED_EVENTS_MAX, parseAnnouncement } from '../src/events/channels.js';
import type { NewEvent } from '../src/storage/ports.js';
import { PgEventStore } from '../src/storage/postgres/event-store.js';
import { migrate } from '../src/storage/postgres/migrations.js';
import { numberEventsAtAppend } from '../src/storage/postgres/pglite-events.js';
import { rowsOf } from '../src/storage/postgres/sql-helpers.js';

function eventsOf(label: string, count: number, dataOf: (n: number) => NewEvent['data'] = (n) => ({ n })): NewEvent[] {
  const at = new Date('2026-11-28T10:00:00.000Z');
  return Array.from({ length: count }, (_, n) => ({
    id: `evt_${label}_${n}`,
    type: 'custom.inbox',
    subject: label,
    data: dataOf(n),
    actor: null,
    at,
  }));
}

describe('the event inbox on PGlite', () => {
  let client: PGlite;
  let db: ReturnType<typeof drizzle>;
  beforeAll(async () => {
    client = await PGlite.create();
    db = drizzle(client);
    await migrate(db);
  });
  afterAll(() => client?.close());

  /** Runs `body` with a store that announces on a channel listened to here; `heard()` answers the payloads so far. */
  async function announcing(body: (events: PgEventStore, heard: () => Promise<string[]>) => Promise<void>) {
    const events = new PgEventStore(db, { announceChannel: 'proserver_test_events' });
    const payloads: string[] = [];
    const unlisten = await client.listen('proserver_test_events', (payload) => payloads.push(payload));
    try {
      await body(events, async () => {
        await client.query('SELECT 1'); // notifications are handed over with the next message
        return payloads;
      });
    } finally {
      await unlisten();
    }
  }

  it('one sequencer call numbers everything committed, beyond the rows and events a single pass moves', async () => {
    const events = new PgEventStore(db);
    // More inbox rows than a pass takes (500), and one row larger than a pass's event budget (5,000).
    const appends = [
      ...Array.from({ length: 600 }, (_, n) => eventsOf(`small-${n}`, 1)),
      eventsOf('large', 6000),
      eventsOf('after', 2),
    ];
    for (const batch of appends) await events.append(batch);

    const { lastSeq, announced } = await events.sequencePending();
    const log = await events.readAfter(0, 10_000);
    expect(lastSeq).toBe(6602);
    expect(announced).toBe(false);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, n) => n + 1));
    expect(log.map((e) => e.id)).toEqual(appends.flat().map((e) => e.id));
    const [inbox] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM event_inbox`));
    expect(inbox?.n).toBe(0);
  });
  it('with an announce channel, a pass that numbers events notifies it of the last seq in its own transaction', async () => {
    await announcing(async (events, heard) => {
      const { last } = await events.bounds();
      await events.append(eventsOf('announced', 3));
      expect(await events.sequencePending({ likelyPending: true })).toEqual({
        lastSeq: last + 3,
        busy: false,
        announced: true,
      });
      // A pass that finds nothing (probe skipped) sends nothing.
      expect(await events.sequencePending({ likelyPending: true })).toEqual({
        lastSeq: null,
        busy: false,
        announced: true,
      });
      expect((await heard()).map(parseAnnouncement)).toEqual([
        {
          last: last + 3,
          events: eventsOf('announced', 3).map((event, n) => ({ ...event, seq: last + 1 + n })),
        },
      ]);
    });
  });
  it('appendNumbered numbers what was committed before, then its own events, in one transaction', async () => {
    await announcing(async (events, heard) => {
      const { last } = await events.bounds();
      await events.append(eventsOf('earlier', 2));
      const appended = await events.appendNumbered(eventsOf('own', 3));
      expect(appended).toEqual({
        seqs: new Map([
          ['evt_own_0', last + 3],
          ['evt_own_1', last + 4],
          ['evt_own_2', last + 5],
        ]),
        lastSeq: last + 5,
        announced: true,
      });
      const log = await events.readAfter(last, 100);
      expect(log.map((e) => e.id)).toEqual(['evt_earlier_0', 'evt_earlier_1', 'evt_own_0', 'evt_own_1', 'evt_own_2']);
      expect((await heard()).map((payload) => parseAnnouncement(payload)?.events?.map((e) => e.id))).toEqual([
        ['evt_earlier_0', 'evt_earlier_1', 'evt_own_0', 'evt_own_1', 'evt_own_2'],
      ]);
    });
  });
  it('a pass with more events than a notification can carry announces its last seq only', async () => {
    await announcing(async (events, heard) => {
      const { last } = await events.bounds();
      await events.append(eventsOf('many', ANNOUNCED_EVENTS_MAX + 1));
      await events.sequencePending();
      const big = (n: number) => ({ text: 'x'.repeat(200 * n) });
      await events.append(eventsOf('big', 40, big));
      await events.sequencePending();
      const total = last + ANNOUNCED_EVENTS_MAX + 1;
      expect(await heard()).toEqual([String(total), String(total + 40)]);
    });
  });
  it('appendNumbered behind a backlog larger than one pass still numbers everything and answers every seq', async () => {
    const events = new PgEventStore(db);
    const { last } = await events.bounds();
    for (let n = 0; n < 600; n++) await events.append(eventsOf(`backlog-${n}`, 1));
    const appended = await events.appendNumbered(eventsOf('behind', 2));
    expect(appended.seqs).toEqual(
      new Map([
        ['evt_behind_0', last + 601],
        ['evt_behind_1', last + 602],
      ]),
    );
    expect(appended.lastSeq).toBe(last + 602);
    const [inbox] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM event_inbox`));
    expect(inbox?.n).toBe(0);
  });
});

/**
 * PGlite runs one statement or transaction at a time, so it numbers events as they are
 * appended (pglite-events.ts) instead of after commit by sequencer passes.
 */
describe('events on PGlite are numbered as they are appended', () => {
  let client: PGlite | undefined;
  afterEach(() => client?.close());

  async function open() {
    client = await PGlite.create();
    const db = drizzle(client);
    await migrate(db);
    const count = async (table: 'events' | 'event_inbox') =>
      rowsOf<{ n: number }>(await db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]?.n;
    return { db, count };
  }

  it('numbers each append in order without a pass, and a pass only reports the last seq when it moved', async () => {
    const { db, count } = await open();
    expect(await numberEventsAtAppend(db)).toBe(true);
    const events = new PgEventStore(db, { numberedAtAppend: true });
    const nullFirst = (n: number) => (n === 0 ? null : { n });
    const appends = [eventsOf('a', 3, nullFirst), eventsOf('b', 1, nullFirst), eventsOf('c', 2, nullFirst)];
    for (const batch of appends) await events.append(batch);

    expect(await count('event_inbox')).toBe(0);
    const log = await events.readAfter(0, 100);
    expect(log.map((e) => e.id)).toEqual(appends.flat().map((e) => e.id));
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log[0]?.data).toBeNull();
    expect(log[1]?.data).toEqual({ n: 1 });

    expect(await events.sequencePending()).toEqual({ lastSeq: 6, busy: false, announced: false });
    expect(await events.sequencePending()).toEqual({ lastSeq: null, busy: false, announced: false });
    await events.append(eventsOf('d', 1));
    expect(await events.sequencePending()).toEqual({ lastSeq: 7, busy: false, announced: false });
    expect(await events.appendNumbered(eventsOf('e', 2))).toEqual({
      seqs: new Map([
        ['evt_e_0', 8],
        ['evt_e_1', 9],
      ]),
      lastSeq: 9,
      announced: false,
    });
    expect(await events.sequencePending()).toEqual({ lastSeq: null, busy: false, announced: false });
  });

  it('numbers inbox rows written before the trigger ahead of every later append', async () => {
    const { db, count } = await open();
    const before = new PgEventStore(db);
    await before.append(eventsOf('old', 2));
    expect(await count('event_inbox')).toBe(1);

    await numberEventsAtAppend(db);
    const events = new PgEventStore(db, { numberedAtAppend: true });
    await events.append(eventsOf('new', 1));

    expect(await count('event_inbox')).toBe(0);
    const log = await events.readAfter(0, 100);
    expect(log.map((e) => [e.seq, e.id])).toEqual([
      [1, 'evt_old_0'],
      [2, 'evt_old_1'],
      [3, 'evt_new_0'],
    ]);
  });

  it('installs nothing on a database without the inbox (storage opened without migrating)', async () => {
    client = await PGlite.create();
    expect(await numberEventsAtAppend(drizzle(client))).toBe(false);
  });
});
