import { type SQL, sql } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type { Notifier } from '../ports.js';
import type { PgDb } from './db.js';

/**
 * Wake-ups between processes through PostgreSQL LISTEN/NOTIFY. The `postgres` driver listens
 * on one dedicated connection (and re-listens after a reconnect); notifications sent while it
 * was down are lost, which the engine's polling covers. Channel names are prefixed with the
 * schema, so deployments (or test runs) sharing a database in different schemas do not wake
 * each other.
 *
 * NOTIFY is sent on its own, after the work it announces has committed: a NOTIFY inside a
 * transaction takes a database-wide lock at commit and serialises every committing
 * transaction in the cluster. (A NOTIFY on its own is a transaction too, with a commit record
 * flushed to disk under that lock; the event sequencer's pass, a short transaction of its
 * own, therefore sends its notification inside: one disk sync instead of two, same lock time.
 * See PgEventStore.) Sent on their own, wake-ups are committed without waiting for the disk
 * (see {@link notifySql}).
 *
 * @example
 * const notifier = createPgNotifier(client, db, 'public');
 */
export function createPgNotifier(client: Sql, db: PgDb, schema: string): Notifier {
  const channelName = (channel: string) => pgChannelName(schema, channel);
  return {
    async publish(channel, payload) {
      await db.execute(notifySql(channelName(channel), payload));
    },
    async subscribe(channel, listener, options) {
      const { unlisten } = await client.listen(
        channelName(channel),
        (payload) => listener(payload),
        () => options?.onListen?.(),
      );
      return async () => {
        await unlisten();
      };
    },
  };
}

/**
 * The statement that sends one wake-up on its own: `pg_notify` in a transaction committed
 * asynchronously. A NOTIFY makes its transaction write a commit record, which a synchronous
 * commit flushes to disk while holding PostgreSQL's notification lock; a wake-up is best effort
 * (a lost one is covered by polling), so it need not wait for the disk, and the lock is held
 * for less. `set_config(…, true)` lasts until the end of this statement's own transaction.
 * With `when`, only if that condition holds when the statement runs (nothing is sent, or
 * committed, otherwise).
 *
 * @example
 * await db.execute(notifySql(pgChannelName('public', 'tasks'), 'normal'));
 */
export function notifySql(channel: string, payload: string, when?: SQL): SQL {
  const notify = sql`SELECT set_config('synchronous_commit', 'off', true), pg_notify(${channel}, ${payload})`;
  return when === undefined ? notify : sql`${notify} WHERE ${when}`;
}

/** The PostgreSQL channel of a notifier channel in a schema (also for NOTIFY sent from SQL). */
export function pgChannelName(schema: string, channel: string): string {
  return `proserver_${schema}_${channel}`;
}
