import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withNamedStatements } from '../src/storage/postgres/pglite-statements.js';

/** The named statements PGlite's session holds, read through the unwrapped instance (its own query is unnamed). */
async function preparedTexts(raw: PGlite): Promise<string[]> {
  const { rows } = await raw.query<{ statement: string }>(
    'SELECT statement FROM pg_prepared_statements WHERE from_sql = false ORDER BY prepare_time, name',
  );
  return rows.map((row) => row.statement);
}

describe('PGlite named statements', () => {
  let raw: PGlite;
  let pg: PGlite;

  beforeAll(async () => {
    raw = await PGlite.create();
  });
  afterAll(async () => {
    await raw.close();
  });
  beforeEach(async () => {
    await raw.exec(`DEALLOCATE ALL; DROP TABLE IF EXISTS t;
      CREATE TABLE t (id int PRIMARY KEY, doc jsonb, at timestamptz, tags text[])`);
    pg = withNamedStatements(raw, 2);
  });

  it('prepares each text once and runs it with any parameters, types as PGlite would send them', async () => {
    const insert = 'INSERT INTO t (id, doc, at, tags) VALUES ($1, $2, $3, $4) RETURNING id, doc, at, tags';
    const at = new Date('2026-11-28T08:00:00.000Z');
    const first = await pg.query(insert, [1, { a: [1, 'x'] }, at, ['p', 'q']]);
    const second = await pg.query(insert, [2, null, null, null]);
    expect(first.rows).toEqual([{ id: 1, doc: { a: [1, 'x'] }, at, tags: ['p', 'q'] }]);
    expect(second.rows).toEqual([{ id: 2, doc: null, at: null, tags: null }]);
    expect(first.affectedRows).toBe(1);
    expect(await preparedTexts(raw)).toEqual([insert]);
  });

  it('keeps at most `capacity` statements, closing the least recently used', async () => {
    const texts = ['SELECT 1 AS n', 'SELECT 2 AS n', 'SELECT 3 AS n'];
    for (const text of texts) await pg.query(text);
    await pg.query(texts[1] as string); // closes `SELECT 1` on its way
    expect(await preparedTexts(raw)).toEqual(['SELECT 2 AS n', 'SELECT 3 AS n']);
    expect((await pg.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });

  it('throws PostgreSQL errors with their code and stays usable; a statement that does not parse is not kept', async () => {
    const insert = 'INSERT INTO t (id) VALUES ($1)';
    await pg.query(insert, [1]);
    await expect(pg.query(insert, [1])).rejects.toMatchObject({ code: '23505' });
    await expect(pg.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
    await pg.query(insert, [2]);
    expect((await raw.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await preparedTexts(raw)).toEqual([insert]);
  });

  it('runs inside transactions: rolled back with them, while the statements prepared there stay usable', async () => {
    const insert = 'INSERT INTO t (id) VALUES ($1)';
    await expect(
      pg.transaction(async (tx) => {
        await tx.query(insert, [1]);
        await tx.query(insert, [1]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await pg.transaction(async (tx) => {
      await tx.query(insert, [2]);
    });
    expect((await pg.query('SELECT id FROM t')).rows).toEqual([{ id: 2 }]);
  });

  it('prepares again a statement whose result columns changed (outside a transaction, retried at once)', async () => {
    const all = 'SELECT * FROM t';
    expect((await pg.query(all)).fields.map((field) => field.name)).toEqual(['id', 'doc', 'at', 'tags']);
    await raw.exec('ALTER TABLE t ADD COLUMN extra int');
    expect((await pg.query(all)).fields.map((field) => field.name)).toEqual(['id', 'doc', 'at', 'tags', 'extra']);
  });

  it('prepares again a statement deallocated behind its back', async () => {
    await pg.query('SELECT 1 AS n');
    await raw.exec('DEALLOCATE ALL');
    expect((await pg.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });
});
