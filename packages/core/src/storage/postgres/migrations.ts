/**
 * Schema migrations, applied programmatically at start by {@link migrate}. Each migration is
 * a list of statements (one statement per string, so both drivers run them with the
 * extended protocol). Never edit a released migration: append a new one
 * (migration-steps-later.ts).
 */
import { sql } from 'drizzle-orm';
import type { PgDb } from './db.js';
import { BASE_MIGRATIONS } from './migration-steps-base.js';
import { LATER_MIGRATIONS } from './migration-steps-later.js';
import { rowsOf } from './sql-helpers.js';

export interface Migration {
  id: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [...BASE_MIGRATIONS, ...LATER_MIGRATIONS];

/** Any fixed number: the advisory lock that serialises concurrent migrators (several nodes starting at once). */
const MIGRATION_LOCK_KEY = 7_301_029;

/**
 * Applies every migration not yet applied, in one transaction under an advisory lock, so
 * that several processes starting together apply each migration exactly once.
 * Returns the ids it applied.
 */
export async function migrate(db: PgDb, now: Date = new Date()): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.execute(
      sql.raw(`CREATE TABLE IF NOT EXISTS proserver_migrations (
        id integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL
      )`),
    );
    const applied = new Set(
      rowsOf<{ id: number }>(await tx.execute(sql`SELECT id FROM proserver_migrations`)).map((r) => Number(r.id)),
    );
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.id)) continue;
      for (const statement of migration.statements) await tx.execute(sql.raw(statement));
      await tx.execute(
        sql`INSERT INTO proserver_migrations (id, name, applied_at) VALUES (${migration.id}, ${migration.name}, ${now.toISOString()})`,
      );
      done.push(migration.id);
    }
    return done;
  });
}
