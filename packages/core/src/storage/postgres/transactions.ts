import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { PgDb, SqlRunner } from './db.js';

/** A transaction opened by a {@link Transact}. */
export interface PipelinedTx extends SqlRunner {
  /** Sends one statement now, behind everything sent before it (issue several at once to pipeline them). */
  execute(statement: SQL): Promise<unknown>;
  /** Sends the last statement with COMMIT behind it; resolves with its result once committed. */
  commitWith(statement: SQL): Promise<unknown>;
}

/**
 * Runs `body` in a transaction: committed when it resolves (if it did not call
 * `commitWith`), rolled back when it throws.
 */
export type Transact = <T>(body: (tx: PipelinedTx) => Promise<T>) => Promise<T>;

/**
 * Transactions through drizzle (PGlite: in process, a round trip costs nothing). Statements
 * issued together run one after the other, in the order issued.
 */
export function drizzleTransactions(db: PgDb): Transact {
  return (body) =>
    db.transaction((tx) => {
      let tail: Promise<unknown> = Promise.resolve();
      const execute = (statement: SQL) => {
        const result = tail.then(() => tx.execute(statement));
        tail = result.catch(() => {});
        return result;
      };
      return body({ execute, commitWith: execute });
    });
}

const dialect = new PgDialect();

/**
 * Sends `statement` (prepared, as everywhere: see postgres.ts) on `connection` now. The
 * driver otherwise sends a query when it is first awaited; sending at once keeps statements
 * in the order they are issued, whoever awaits them and when.
 */
function sendOn(connection: postgres.Sql, statement: SQL) {
  const query = dialect.sqlToQuery(statement);
  // biome-ignore lint/suspicious/noExplicitAny: drizzle's parameters are what the driver serialises
  return connection.unsafe(query.sql, query.params as any[], { prepare: true }).execute();
}

/**
 * Transactions on a reserved connection of the `postgres` driver, with BEGIN sent together
 * with the body's first statements and COMMIT together with its last. The driver's own
 * `begin()` waits for BEGIN's answer before running the body and for the body before sending
 * COMMIT: two more round trips, and two more socket writes, per transaction. Those writes are
 * what a busy server spends its CPU on (a short document write was 4 of them, plus the
 * sequencer's). Statements on one connection run in the order sent, so pipelining changes
 * nothing of the semantics: a statement still takes its snapshot when the server starts it.
 */
export function pipelinedTransactions(client: postgres.Sql): Transact {
  return async (body) => {
    const connection = await client.reserve();
    const send = (statement: SQL) => sendOn(connection, statement);
    const sendText = (text: string) => connection.unsafe(text).execute();
    // Set from `commitWith`, which runs inside `body`.
    let state = 'open' as 'open' | 'committing' | 'committed';
    const begun = sendText('BEGIN');
    // A failed BEGIN fails the statements behind it: their error is the one reported.
    begun.catch(() => {});
    try {
      const result = await body({
        execute: send,
        async commitWith(statement) {
          state = 'committing';
          // Sent back to back on one connection: COMMIT runs after the statement. If the
          // statement fails, the server answers COMMIT with ROLLBACK.
          const [answer] = await Promise.all([send(statement), sendText('COMMIT')]);
          state = 'committed';
          return answer;
        },
      });
      if (state === 'open') await sendText('COMMIT');
      await begun;
      return result;
    } catch (error) {
      if (state !== 'committed') await sendText('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      connection.release();
    }
  };
}

/**
 * Sends `write` and then `after` back to back on one reserved connection (one socket write),
 * each in its own implicit transaction. Resolves, or rejects, with `write`'s result as soon
 * as it is in; `after` (wake-ups) is best effort: it finishes in the background, its
 * failures ignored, and the connection goes back to the pool once everything answered.
 */
export type WriteThen = (write: SQL, after: readonly SQL[]) => Promise<unknown>;

export function reservedWriteThen(client: postgres.Sql): WriteThen {
  return async (write, after) => {
    const connection = await client.reserve();
    const written = sendOn(connection, write);
    const followers = after.map((statement) => sendOn(connection, statement));
    void Promise.allSettled([written, ...followers]).then(() => connection.release());
    return written;
  };
}
