import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PgEventStore } from '../src/storage/postgres/event-store.js';
import { MIGRATIONS, migrate } from '../src/storage/postgres/migrations.js';
import { rowsOf } from '../src/storage/postgres/sql-helpers.js';

/** Creates the schema as release `id` left it (migrations up to `id`, recorded as applied). */
async function schemaUpTo(db: ReturnType<typeof drizzle>, id: number): Promise<void> {
  await db.execute(sql`CREATE TABLE proserver_migrations (id integer PRIMARY KEY, name text NOT NULL,
    applied_at timestamptz NOT NULL)`);
  for (const migration of MIGRATIONS.filter((m) => m.id <= id)) {
    for (const statement of migration.statements) await db.execute(sql.raw(statement));
    await db.execute(sql`INSERT INTO proserver_migrations VALUES (${migration.id}, ${migration.name}, now())`);
  }
}

describe('upgrading a database (PGlite)', () => {
  let client: PGlite;
  let db: ReturnType<typeof drizzle>;
  beforeEach(async () => {
    client = await PGlite.create();
    db = drizzle(client);
  });
  afterEach(() => client?.close());

  it('migration 8 keeps the events not yet numbered: they are numbered after it, in append order', async () => {
    // The schema as release 7 left it, with one event numbered and two committed but not yet.
    await schemaUpTo(db, 7);
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

  it("migration 11 numbers each path's history entries in revision order, so retention goes on from them", async () => {
    await schemaUpTo(db, 10);
    const entries: [number, string, number][] = [
      [3, 'c/a', 1],
      [5, 'c/b', 1],
      [7, 'c/a', 2],
      [9, 'c/a', 1],
    ];
    for (const [revision, path, version] of entries) {
      await db.execute(sql`INSERT INTO document_history (revision, path, parent_path, collection, doc_id, version,
        op, data, at, actor) VALUES (${revision}, ${path}, '', 'c', ${path.slice(2)}, ${version}, 'update',
        '{}', now(), 'system')`);
    }
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.id > 10).map((m) => m.id));
    const rows = rowsOf<{ revision: number; ordinal: number }>(
      await db.execute(sql`SELECT revision::int AS revision, ordinal::int AS ordinal FROM document_history
        ORDER BY revision`),
    );
    expect(rows.map((r) => [r.revision, r.ordinal])).toEqual([
      [3, 1],
      [5, 1],
      [7, 2],
      [9, 3],
    ]);
  });
});
