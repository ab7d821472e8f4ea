/**
 * `@proserver/core/postgres`: storage on a PostgreSQL server through the `postgres` driver.
 *
 * @example
 * import { createPostgresStorage } from '@proserver/core/postgres';
 * const storage = await createPostgresStorage({ url: process.env.DATABASE_URL! });
 * const core = createCore({ storage });
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Storage } from '../ports.js';
import { migrate } from './migrations.js';
import { createPgNotifier, pgChannelName } from './notifier.js';
import { createPgStorage } from './pg-storage.js';
import { pipelinedTransactions, reservedWriteThen } from './transactions.js';

export interface PostgresStorageOptions {
  /** `postgres://user@host:5432/db` */
  url: string;
  /** Work in this schema (created if missing) instead of the search path's default. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function createPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(`invalid schema name: ${options.schema}`);
  }
  if (options.schema) {
    const admin = postgres(options.url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    } finally {
      await admin.end();
    }
  }
  const client = postgres(options.url, {
    max: options.max ?? 10,
    onnotice: () => {},
    ...(options.schema ? { connection: { search_path: options.schema } } : {}),
  });
  const db = drizzle(withPreparedStatements(client));
  try {
    if (options.migrate !== false) await migrate(db);
  } catch (error) {
    await client.end({ timeout: 1 });
    throw error;
  }
  const schema = options.schema ?? 'public';
  return createPgStorage(db, 'postgres', () => client.end({ timeout: 5 }), {
    server: {
      notifier: createPgNotifier(client, db, schema),
      transact: pipelinedTransactions(client),
      wakeUps: { writeThen: reservedWriteThen(client), channel: (name) => pgChannelName(schema, name) },
    },
  });
}

export { MIGRATIONS, migrate } from './migrations.js';

/**
 * drizzle asks the driver to prepare only the queries it was told to name, so every other
 * statement is parsed and planned on each call (~0.3 ms on the token lookup, the hot path of
 * every request; up to ~0.5 ms on a document write's larger statements). Our statements are
 * parameterised and few, so let the driver prepare them all: it caches one prepared statement
 * per distinct SQL text per connection. Transactions (and their savepoints) get their own
 * query functions from the driver, so those are wrapped too.
 */
function withPreparedStatements<T extends postgres.Sql | postgres.TransactionSql>(client: T): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, parameters?: unknown[], options?: { prepare?: boolean }) =>
          // biome-ignore lint/suspicious/noExplicitAny: the driver's parameter type is narrower than what drizzle passes
          target.unsafe(query, parameters as any, { ...options, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        const open = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => {
          const body = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return open(...args, (tx: postgres.TransactionSql) => body(withPreparedStatements(tx)));
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
