import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventStore } from '../src/storage/postgres/event-store.js';
import { MIGRATIONS, migrate } from '../src/storage/postgres/migrations.js';
import { rowsOf } from '../src/storage/postgres/sql-helpers.js';

describe('upgrading a database (PGlite)', () => {
  let client: PGlite;
  let db: ReturnType<typeof drizzle>;
  beforeAll(async () => {
    client = await PGlite.create();
    db = drizzle(client);
  });
  afterAll(() => client?.close());

  it('migration 8 keeps the events not yet numbered: they are numbered after it, in append order', async () => {
    // The schema as release 7 left it, with one event numbered and two committed but not yet.
    await db.execute(sql`CREATE TABLE proserver_migrations (id integer PRIMARY KEY, name text NOT NULL,
      applied_at timestamptz NOT NULL)`);
    for (const migration of MIGRATIONS.filter((m) => m.id <= 7)) {
      for (const statement of migration.statements) await db.execute(sql.raw(statement));
      await db.execute(sql`INSERT INTO proserver_migrations VALUES (${migration.id}, ${migration.name}, now())`);
    }
    const at = '2026-11-28T10:00:00.000Z';
    await db.execute(sql`INSERT INTO events (id, seq, type, subject, data, actor, at)
      VALUES ('evt_1', nextval('events_seq'), 'kv.set', 'a', '{"n": 1}', 'usr_1', ${at})`);
    await db.execute(sql`INSERT INTO events (id, type, subject, data, actor, at)
      VALUES ('evt_3', 'kv.set', 'b', '{"n": 2}', NULL, ${at})`);
    await db.execute(sql`INSERT INTO events (id, type, subject, data, actor, at)
      VALUES ('evt_2', 'kv.deleted', 'c', 'null', 'usr_1', ${at})`);

    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.id > 7).map((m) => m.id));
    const events = new PgEventStore(db);
    await events.sequencePending();
    const log = await events.readAfter(0, 10);
    expect(log.map((e) => [e.seq, e.id, e.type, e.subject, e.data, e.actor])).toEqual([
      [1, 'evt_1', 'kv.set', 'a', { n: 1 }, 'usr_1'],
      [2, 'evt_3', 'kv.set', 'b', { n: 2 }, null],
      [3, 'evt_2', 'kv.deleted', 'c', null, 'usr_1'],
    ]);
    expect(log.every((e) => e.at.toISOString() === at)).toBe(true);
    const [inbox] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM event_inbox`));
    expect(inbox?.n).toBe(0);
  });
});
