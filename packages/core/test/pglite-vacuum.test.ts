import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { describe, expect, it } from 'vitest';
import { createCore } from '../src/index.js';
import { createMemoryStorage } from '../src/storage/memory/index.js';
import { migrate } from '../src/storage/postgres/migrations.js';
import { createPgliteStorage } from '../src/storage/postgres/pglite.js';
import { pgliteVacuum } from '../src/storage/postgres/pglite-vacuum.js';
import { waitUntil } from '../src/testing/task-contract-context.js';

/** A migrated PGlite holding 1,000 keys, each then rewritten 64 times; answers the table's size. */
async function churnKeys(vacuum: ((client: PGlite) => () => Promise<void>) | null) {
  const client = await PGlite.create();
  try {
    await migrate(drizzle(client));
    await client.exec(`INSERT INTO kv_entries (key, value, version, tags, created_at, updated_at)
      SELECT 'k' || g, '0', 1, '[]', now(), now() FROM generate_series(1, 1000) g`);
    const pass = vacuum?.(client);
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 8; i++)
        await client.exec('UPDATE kv_entries SET value = to_jsonb(version), version = version + 1');
      await pass?.();
    }
    const { rows } = await client.query<{ bytes: number; estimated: number }>(
      `SELECT pg_table_size('kv_entries')::int AS bytes, reltuples::int AS estimated FROM pg_class WHERE relname = 'kv_entries'`,
    );
    return rows[0] as { bytes: number; estimated: number };
  } finally {
    await client.close();
  }
}

describe('PGlite vacuum (PGlite has no autovacuum)', () => {
  it('keeps a table whose rows keep changing from growing with every change, and analyzes it', async () => {
    const never = await churnKeys(null);
    const vacuumed = await churnKeys(pgliteVacuum);
    expect(vacuumed.bytes).toBeLessThan(never.bytes / 3);
    // The first pass analyzed: the planner knows the table's size.
    expect(vacuumed.estimated).toBe(1000);
  });

  it('is part of PGlite storage only, and the core runs it on its timer', async () => {
    const memory = createMemoryStorage();
    expect(memory.vacuum).toBeUndefined();
    await memory.close();

    const storage = await createPgliteStorage();
    let passes = 0;
    const vacuum = storage.vacuum?.bind(storage);
    expect(vacuum).toBeTypeOf('function');
    const counted = {
      ...storage,
      vacuum: async () => {
        passes++;
        await vacuum?.();
      },
    };
    const core = createCore({ storage: counted, kv: { sweepIntervalMs: 0 }, maintenance: { vacuumIntervalMs: 5 } });
    try {
      await waitUntil(() => passes >= 2, 'two vacuum passes');
    } finally {
      await core.close();
    }
  });
});
