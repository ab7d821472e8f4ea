import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/storage/ports.js';
import { PgEventStore } from '../src/storage/postgres/event-store.js';
import { migrate } from '../src/storage/postgres/migrations.js';
import { rowsOf } from '../src/storage/postgres/sql-helpers.js';

function eventsOf(label: string, count: number): NewEvent[] {
  const at = new Date('2026-11-28T10:00:00.000Z');
  return Array.from({ length: count }, (_, n) => ({
    id: `evt_${label}_${n}`,
    type: 'custom.inbox',
    subject: label,
    data: { n },
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

  it('one sequencer call numbers everything committed, beyond the rows and events a single pass moves', async () => {
    const events = new PgEventStore(db);
    // More inbox rows than a pass takes (500), and one row larger than a pass's event budget (5,000).
    const appends = [
      ...Array.from({ length: 600 }, (_, n) => eventsOf(`small-${n}`, 1)),
      eventsOf('large', 6000),
      eventsOf('after', 2),
    ];
    for (const batch of appends) await events.append(batch);

    const { lastSeq } = await events.sequencePending();
    const log = await events.readAfter(0, 10_000);
    expect(lastSeq).toBe(6602);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, n) => n + 1));
    expect(log.map((e) => e.id)).toEqual(appends.flat().map((e) => e.id));
    const [inbox] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM event_inbox`));
    expect(inbox?.n).toBe(0);
  });
});
