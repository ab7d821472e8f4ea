import type { Sql } from 'postgres';
import type { Notifier } from '../ports.js';

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
 * See PgEventStore.)
 *
 * @example
 * const notifier = createPgNotifier(client, 'public');
 */
export function createPgNotifier(client: Sql, schema: string): Notifier {
  const channelName = (channel: string) => pgChannelName(schema, channel);
  return {
    async publish(channel, payload) {
      await client.notify(channelName(channel), payload);
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

/** The PostgreSQL channel of a notifier channel in a schema (also for NOTIFY sent from SQL). */
export function pgChannelName(schema: string, channel: string): string {
  return `proserver_${schema}_${channel}`;
}
