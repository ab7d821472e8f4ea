/**
 * Schema migrations, applied programmatically at start by {@link migrate}. Each migration is
 * a list of statements (one statement per string, so both drivers run them with the
 * extended protocol). Never edit a released migration: append a new one.
 */
import { sql } from 'drizzle-orm';
import type { PgDb } from './db.js';
import { rowsOf } from './sql-helpers.js';

interface Migration {
  id: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'key-value and application tokens',
    statements: [
      `CREATE TABLE kv_entries (
        key text COLLATE "C" PRIMARY KEY,
        value jsonb NOT NULL,
        version integer NOT NULL,
        tags jsonb NOT NULL DEFAULT '[]'::jsonb,
        expires_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`,
      // Tag listing uses `tags @> '["x"]'`: jsonb_path_ops is the smaller GIN for containment.
      'CREATE INDEX kv_entries_tags_idx ON kv_entries USING gin (tags jsonb_path_ops)',
      // The sweeper deletes in expiry order; most keys have no TTL, so index only those that do.
      'CREATE INDEX kv_entries_expires_at_idx ON kv_entries (expires_at) WHERE expires_at IS NOT NULL',
      `CREATE TABLE users (
        id text PRIMARY KEY,
        name text NOT NULL,
        email text UNIQUE,
        role text NOT NULL CHECK (role IN ('owner', 'member')),
        created_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`,
      `CREATE TABLE application_tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        user_id text NOT NULL REFERENCES users (id),
        last4 text NOT NULL,
        scopes jsonb NOT NULL,
        secret_hash text NOT NULL UNIQUE,
        previous_secret_hash text UNIQUE,
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        last_used_at timestamptz,
        last_used_ip text,
        revoked_at timestamptz,
        rotated_at timestamptz
      )`,
      'CREATE INDEX application_tokens_user_idx ON application_tokens (user_id, id)',
    ],
  },
];

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
