import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/storage/postgres/sql-helpers.js';
import { drizzleTransactions, pipelinedTransactions, type Transact } from '../src/storage/postgres/transactions.js';

interface Backend {
  transact: Transact;
  count(): Promise<number>;
}

/**
 * The contract of a `Transact`: statements run in the order they are issued (whoever awaits
 * them, and when), in one transaction that commits when the body resolves (or with
 * `commitWith`'s statement) and rolls back when the body or that statement fails.
 */
function transactionContract(name: string, open: () => Promise<Backend & { close(): Promise<void> }>) {
  describe(name, () => {
    let backend: Backend & { close(): Promise<void> };
    beforeAll(async () => {
      backend = await open();
    });
    afterAll(() => backend?.close());

    it('runs statements in the order issued, not the order awaited', async () => {
      const seen = await backend.transact(async (tx) => {
        const set = tx.execute(sql`SELECT set_config('proserver.test_flag', 'yes', true)`);
        const read = tx.commitWith(sql`SELECT current_setting('proserver.test_flag', true) AS flag`);
        const [row] = rowsOf<{ flag: string | null }>(await read);
        await set;
        return row?.flag;
      });
      expect(seen).toBe('yes');
    });

    it('commits when the body resolves, with or without commitWith', async () => {
      const before = await backend.count();
      await backend.transact(async (tx) => {
        await tx.execute(sql`INSERT INTO t (n) VALUES (1)`);
      });
      await backend.transact((tx) => tx.commitWith(sql`INSERT INTO t (n) VALUES (2)`));
      expect(await backend.count()).toBe(before + 2);
    });

    it('rolls back when the body throws, and when the last statement fails', async () => {
      const before = await backend.count();
      await expect(
        backend.transact(async (tx) => {
          await tx.execute(sql`INSERT INTO t (n) VALUES (3)`);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      await expect(
        backend.transact(async (tx) => {
          await tx.execute(sql`INSERT INTO t (n) VALUES (4)`);
          await tx.commitWith(sql`INSERT INTO t (n) VALUES (1 / 0)`);
        }),
      ).rejects.toThrow();
      expect(await backend.count()).toBe(before);
      // The connection went back to the pool in a usable state.
      await backend.transact((tx) => tx.commitWith(sql`INSERT INTO t (n) VALUES (5)`));
      expect(await backend.count()).toBe(before + 1);
    });
  });
}

transactionContract('drizzle transactions on PGlite', async () => {
  const client = await PGlite.create();
  const db = drizzle(client);
  await db.execute(sql`CREATE TABLE t (n int)`);
  return {
    transact: drizzleTransactions(db),
    async count() {
      const [row] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM t`));
      return Number(row?.n);
    },
    close: () => client.close(),
  };
});

describe.runIf(process.env.DATABASE_URL)('on PostgreSQL', () => {
  const url = process.env.DATABASE_URL ?? '';
  const schema = `t_${randomBytes(6).toString('hex')}`;
  transactionContract('pipelined transactions (postgres driver, reserved connection)', async () => {
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".t (n int)`);
    await admin.end();
    // A small pool: a connection that did not go back would stall the next transaction.
    const client = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
    return {
      transact: pipelinedTransactions(client),
      async count() {
        const [row] = await client.unsafe('SELECT count(*)::int AS n FROM t');
        return Number(row?.n);
      },
      async close() {
        await client.unsafe(`DROP SCHEMA "${schema}" CASCADE`);
        await client.end();
      },
    };
  });
});
