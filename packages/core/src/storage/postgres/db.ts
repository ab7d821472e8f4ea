import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/**
 * The one database type the PostgreSQL adapters are written against. Both the `postgres`
 * driver and PGlite produce one; so does a transaction (`tx`), which is passed explicitly.
 */
// biome-ignore lint/suspicious/noExplicitAny: the schema generic is irrelevant to the adapters, which use tables directly
export type PgDb = PgDatabase<PgQueryResultHKT, any>;

/** What a statement helper needs: a database, a drizzle transaction or a pipelined one (see transactions.ts). */
export interface SqlRunner {
  execute(statement: SQL): PromiseLike<unknown>;
}
