import { z } from 'zod';
import { actorIdOf } from '../auth/actor.js';
import type { Principal } from '../auth/types.js';
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import type { JsonValue } from '../kv/types.js';
import { kvValueSchema } from '../kv/validation.js';
import type { Logger } from '../logger.js';
import { type BackgroundLoop, startLoop } from '../loop.js';
import type { AuthStore, EventStore, Notifier } from '../storage/ports.js';
import { jsonByteLength, parseInput, storableText } from '../validation.js';
import { PublishBatches } from './publish-batches.js';
import { assertRetainedAfter } from './retained.js';
import { EventSequencer } from './sequencer.js';
import { Subscription, toProServerEvent } from './subscription.js';
import { EventTailer } from './tailer.js';
import { TokenWatch } from './token-watch.js';
import { NO_TOPICS, parseTopics } from './topics.js';
import type { EventLog, EventLogSettings } from './types.js';
import { canSeeEvent } from './visibility.js';

export interface EventServiceOptions {
  store: EventStore;
  /** The auth store itself (not a cache), to re-check the tokens of subscriptions. */
  auth: AuthStore;
  notifier: Notifier;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  settings: EventLogSettings;
}

export const DEFAULT_EVENT_READ_LIMIT = 100;
export const MAX_EVENT_READ_LIMIT = 1000;
/** Largest `data` of a published event, as JSON text. */
export const MAX_CUSTOM_EVENT_BYTES = 64 * 1024;
/** Events purged per statement by the retention pass. */
const PURGE_BATCH = 5000;

const publishSchema = z.strictObject({
  type: z.string().regex(/^custom\.[A-Za-z0-9_.:-]{1,100}$/, 'must be custom.<name> (letters, digits, _ . : -)'),
  data: kvValueSchema.optional(),
  subject: storableText(z.string().min(1).max(512)).optional(),
});
const seqSchema = z.number().int('must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER);
const readSchema = z.strictObject({
  topics: z.array(z.unknown()),
  after: seqSchema.optional(),
  limit: z.number().int('must be a whole number').min(1).max(MAX_EVENT_READ_LIMIT).optional(),
});

/**
 * The event log service (SPEC §4), reached as `core.events`: publish client events, read
 * (polling) and subscribe (live, across nodes), each filtered by topics and by what the
 * principal may see. Owns the sequencer, the tailer, the token watch and the retention loop
 * of this process.
 *
 * @example
 * const sub = await core.events.subscribe(principal, ['tasks'], (event) => send(event), { since: 0 });
 */
export function createEventService(options: EventServiceOptions): EventLog {
  const { store, notifier, clock, ids, logger, settings } = options;
  const all = new Set<Subscription>();
  const tailer = new EventTailer({ store, notifier, clock, logger, pollIntervalMs: settings.pollIntervalMs });
  const sequencer = new EventSequencer({
    store,
    notifier,
    logger,
    intervalMs: settings.sequencerIntervalMs,
    minPassIntervalMs: settings.sequencerMinPassIntervalMs,
    onSequenced: (lastSeq) => tailer.wake(lastSeq),
  });
  const tokenWatch = new TokenWatch({ auth: options.auth, notifier, clock, logger, subscriptions: () => all });
  sequencer.start();
  const tokenWatchStarted = tokenWatch.start().catch((error: unknown) => {
    logger.error('cannot watch token changes for event subscriptions', { error: String(error) });
  });
  const loops: BackgroundLoop[] = [];
  let stopped = false;

  const purgeExpired = async (): Promise<number> => {
    const before = new Date(clock.now().getTime() - settings.retentionMs);
    let total = 0;
    for (;;) {
      const purged = await store.purgeBefore(before, PURGE_BATCH);
      total += purged;
      if (purged < PURGE_BATCH) return total;
    }
  };
  if (settings.purgeIntervalMs > 0) {
    loops.push(
      startLoop({
        name: 'event-retention',
        intervalMs: settings.purgeIntervalMs,
        logger,
        run: async () => void (await purgeExpired()),
      }),
    );
  }

  /** EVENTS_EXPIRED when events after `after` were already purged. */
  const checkRetained = (after: number) => assertRetainedAfter(store, after);

  /** Events appended by this node are numbered before a read, so a client reads its own writes. */
  const flush = () => sequencer.sequenceNow();
  const publishes = new PublishBatches(async (events) => {
    const appended = await store.appendNumbered(events);
    await sequencer.numbered(appended);
    return appended.seqs;
  });

  /** When `actor`'s token expires (ms since epoch; null for the system), refusing a token no longer valid. */
  const tokenExpiry = async (actor: Principal): Promise<number | null> => {
    if (actor.kind !== 'token') return null;
    const token = await options.auth.getToken(actor.tokenId);
    if (!token || token.revokedAt) throw new ProServerError('UNAUTHENTICATED', 'the token was revoked');
    const expiresAtMs = token.expiresAt.getTime();
    if (expiresAtMs <= clock.now().getTime()) throw new ProServerError('TOKEN_EXPIRED', 'the token has expired');
    return expiresAtMs;
  };

  return {
    async publish(actor, input) {
      const parsed = parseInput(publishSchema, input, 'event');
      const data = (parsed.data ?? null) as JsonValue;
      const size = jsonByteLength(data);
      if (size > MAX_CUSTOM_EVENT_BYTES) {
        throw new ProServerError(
          'PAYLOAD_TOO_LARGE',
          `event data is ${size} bytes; the limit is ${MAX_CUSTOM_EVENT_BYTES}`,
          {
            details: { size, maxBytes: MAX_CUSTOM_EVENT_BYTES },
          },
        );
      }
      const event = {
        id: ids.next('evt'),
        type: parsed.type,
        subject: parsed.subject ?? parsed.type,
        data,
        actor: actorIdOf(actor),
        at: clock.now(),
      };
      const seq = await publishes.add(event);
      if (seq === undefined) throw new ProServerError('INTERNAL', 'a published event was not sequenced');
      return toProServerEvent({ ...event, seq });
    },

    async read(actor, readOptions) {
      const parsed = parseInput(readSchema, readOptions ?? {}, 'read options');
      const topics = parseTopics(parsed.topics);
      const limit = parsed.limit ?? DEFAULT_EVENT_READ_LIMIT;
      await flush();
      let after: number;
      if (parsed.after === undefined) {
        const { oldest, last } = await store.bounds();
        after = oldest === null ? last : oldest - 1;
      } else {
        after = parsed.after;
        await checkRetained(after);
      }
      // Everything up to `last` is visible before the read (passes commit in seq order).
      const { last } = await store.bounds();
      const rows = await store.readAfter(after, limit, topics.filter);
      const items = rows.filter((row) => topics.matches(row) && canSeeEvent(actor, row)).map(toProServerEvent);
      const lastRow = rows.at(-1)?.seq ?? after;
      const nextAfter = rows.length >= limit ? lastRow : Math.max(lastRow, last, after);
      return { items, nextAfter };
    },

    async subscribe(actor, topicList, handler, subscribeOptions = {}) {
      if (stopped) throw new ProServerError('UNAVAILABLE', 'the event log is shut down');
      const topics = parseTopics(topicList);
      if (typeof handler !== 'function') throw new TypeError('handler must be a function');
      if (subscribeOptions.onBatch !== undefined && typeof subscribeOptions.onBatch !== 'function') {
        throw new TypeError('onBatch must be a function');
      }
      const since =
        subscribeOptions.since === undefined ? undefined : parseInput(seqSchema, subscribeOptions.since, 'since');
      const expiresAtMs = await tokenExpiry(actor);
      await tailer.start();
      if (since !== undefined) await checkRetained(since);
      const subscription = new Subscription({
        principal: actor,
        topics,
        handler,
        onBatch: subscribeOptions.onBatch,
        onEnd: subscribeOptions.onEnd,
        cursor: since ?? tailer.lastSeq,
        expiresAtMs,
        logger,
        detach: (s) => {
          all.delete(s);
          tailer.leave(s);
        },
        onMatchKeyChange: (s, before) => tailer.regroup(s, before),
      });
      all.add(subscription);
      if (actor.kind === 'token' && expiresAtMs !== null) tokenWatch.track(actor.tokenId, expiresAtMs);
      await tailer.join(subscription);
      return subscription;
    },

    async watch(actor, onEnd) {
      if (stopped) throw new ProServerError('UNAVAILABLE', 'the event log is shut down');
      const expiresAtMs = await tokenExpiry(actor);
      const watcher = new Subscription({
        principal: actor,
        topics: NO_TOPICS,
        handler: () => {},
        onEnd,
        cursor: 0,
        expiresAtMs,
        logger,
        detach: (s) => all.delete(s),
      });
      all.add(watcher);
      if (actor.kind === 'token' && expiresAtMs !== null) tokenWatch.track(actor.tokenId, expiresAtMs);
      return watcher;
    },

    async flush() {
      await flush();
    },

    purgeExpired,

    async close() {
      if (stopped) return;
      stopped = true;
      for (const subscription of [...all]) subscription.end('shutdown');
      await tokenWatchStarted;
      await Promise.all([...loops.map((loop) => loop.stop()), tokenWatch.stop(), sequencer.stop(), tailer.stop()]);
    },

    wakeSequencer: (options) => sequencer.wake(options),
  };
}
