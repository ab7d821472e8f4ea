import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { EventRecord, EventStore, Notifier } from '../storage/ports.js';
import { type Announcement, EVENTS_CHANNEL, parseAnnouncement } from './channels.js';
import { type Subscription, sharedProServerEvent } from './subscription.js';
import type { ProServerEvent } from './types.js';

/** Events read per query (tailing and catching up). */
const READ_BATCH = 500;

export interface TailerOptions {
  store: EventStore;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  /** Fallback read when a notification was lost. */
  pollIntervalMs: number;
}

/**
 * The one follower of the event log in this process. Woken by the `events` notification
 * (sent by any node's sequencer after it numbered events, so events made on other nodes
 * arrive here too) and by a poll timer as fallback; each wake-up reads every event after its
 * position, in seq order, and hands each to every live subscription (a notification that
 * carries the events right after the position is handed out without the read: see
 * {@link EventTailer.announced}). Reads are one at a time,
 * so dispatch is strictly ordered, and the position only moves forward: no gaps, no duplicates
 * (the log is the source of truth; a lost notification only delays the next read).
 *
 * A new subscription with `since` first catches up by reading the log itself, then joins the
 * live set in the same synchronous step in which it finds itself at the tailer's position.
 *
 * @example
 * const tailer = new EventTailer({ store, notifier, clock, logger, pollIntervalMs: 1000 });
 * await tailer.start();
 */
export class EventTailer {
  /** Every event up to here has been dispatched to the live subscriptions. */
  private position = 0;
  private readonly live = new Set<Subscription>();
  /** The live subscriptions by {@link Subscription.matchKey}: each event is matched once per group. */
  private readonly groups = new Map<string, Set<Subscription>>();
  private pumping: Promise<void> | undefined;
  /** Events of notifications handled in this turn, dispatched together at its end (see announced). */
  private announcedEvents: EventRecord[] = [];
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private started: Promise<void> | undefined;

  constructor(private readonly options: TailerOptions) {}

  start(): Promise<void> {
    this.started ??= (async () => {
      this.unsubscribe = await this.options.notifier.subscribe(
        EVENTS_CHANNEL,
        (payload) => this.announced(parseAnnouncement(payload)),
        {
          // Notifications sent while (re)connecting are lost: read now (not on this stack:
          // the in-process notifier calls it from inside subscribe).
          onListen: () => queueMicrotask(() => this.wake()),
        },
      );
      this.position = Math.max(this.position, (await this.options.store.bounds()).last);
      if (this.options.pollIntervalMs > 0 && !this.stopped) {
        this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
        this.timer.unref?.();
      }
    })();
    return this.started;
  }

  /** Where live delivery stands. */
  get lastSeq(): number {
    return this.position;
  }

  get subscriptions(): ReadonlySet<Subscription> {
    return this.live;
  }

  /**
   * Reads what is new. `announcedSeq`: the last seq a sequencer pass numbered (every event up
   * to it is visible). With nobody listening the position moves there without a read, so an
   * idle log costs no query per write.
   */
  wake(announcedSeq?: number): void {
    if (this.stopped) return;
    if (announcedSeq !== undefined && this.live.size === 0 && !this.pumping) {
      this.position = Math.max(this.position, announcedSeq);
      return;
    }
    this.again = true;
    this.pumping ??= this.pump();
  }

  /**
   * An `events` notification. When it carries its events and they come right after the
   * position, with no read under way, they are dispatched without reading the log (the read
   * would answer the same events, one round trip later); notifications handled in the same
   * turn of the event loop are dispatched together at its end, so a burst of them makes one
   * write per socket, not one per notification. Otherwise the log is read (a lost or late
   * notification, a pass too large to carry its events: the log stays the source of truth).
   */
  private announced(announcement: Announcement | undefined): void {
    const events = announcement?.events;
    const next = (this.announcedEvents.at(-1)?.seq ?? this.position) + 1;
    if (!events || events[0]?.seq !== next || this.stopped || this.pumping || this.live.size === 0) {
      this.wake(announcement?.last);
      return;
    }
    if (this.announcedEvents.length === 0) setImmediate(() => this.dispatchAnnounced());
    this.announcedEvents.push(...events);
  }

  private dispatchAnnounced(): void {
    const events = this.announcedEvents.filter((event) => event.seq > this.position);
    this.announcedEvents = [];
    // A read started meanwhile (it answers these events too), or one moved the position past a gap.
    if (events.length === 0) return;
    if (this.stopped || this.pumping || events[0]?.seq !== this.position + 1) {
      this.wake();
      return;
    }
    try {
      this.dispatch(events);
    } catch (error) {
      // The next read goes on from the position.
      this.options.logger.error('event tailer dispatch failed', { error: String(error) });
      this.wake();
    }
  }

  /** Reads now; resolves once every event numbered before the call was dispatched. */
  async catchUp(): Promise<void> {
    this.wake();
    await this.pumping;
  }

  /** Catches `subscription` up from its cursor, then adds it to the live set. */
  async join(subscription: Subscription): Promise<void> {
    await this.start();
    for (;;) {
      if (subscription.closed) return;
      const target = this.position;
      if (subscription.lastSeq >= target) {
        // Synchronous with the check: the tailer cannot dispatch between them.
        subscription.live = true;
        this.live.add(subscription);
        this.addToGroup(subscription);
        return;
      }
      const batch = await this.options.store.readAfter(subscription.lastSeq, READ_BATCH, subscription.filter);
      for (const record of batch) subscription.deliver(record);
      // A short batch means every matching event up to `target` (all visible before the read) was in it.
      if (batch.length < READ_BATCH) subscription.advanceTo(target);
    }
  }

  leave(subscription: Subscription): void {
    if (this.live.delete(subscription)) this.removeFromGroup(subscription, subscription.matchKey);
  }

  /** `subscription`'s match key changed (its principal did): it moves to its new group. */
  regroup(subscription: Subscription, before: string): void {
    if (!this.live.has(subscription)) return;
    this.removeFromGroup(subscription, before);
    this.addToGroup(subscription);
  }

  private addToGroup(subscription: Subscription): void {
    const group = this.groups.get(subscription.matchKey);
    if (group) group.add(subscription);
    else this.groups.set(subscription.matchKey, new Set([subscription]));
  }

  private removeFromGroup(subscription: Subscription, key: string): void {
    const group = this.groups.get(key);
    group?.delete(subscription);
    if (group?.size === 0) this.groups.delete(key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.started?.catch(() => {});
    await this.unsubscribe?.().catch(() => {});
    await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      while (this.again && !this.stopped) {
        this.again = false;
        await this.readToEnd();
      }
    } catch (error) {
      // The next wake-up (or the poll timer) reads again from the same position.
      this.options.logger.error('event tailer read failed', { error: String(error) });
    } finally {
      this.pumping = undefined;
    }
  }

  private async readToEnd(): Promise<void> {
    for (;;) {
      if (this.live.size === 0) {
        // Nobody listens: move the position without reading the events (unless someone
        // joined meanwhile at the old position: then read for them).
        const { last } = await this.options.store.bounds();
        if (this.live.size > 0) continue;
        this.position = Math.max(this.position, last);
        return;
      }
      const batch = await this.options.store.readAfter(this.position, READ_BATCH);
      if (batch.length > 0) this.dispatch(batch);
      if (batch.length < READ_BATCH || this.stopped) return;
    }
  }

  private dispatch(batch: readonly EventRecord[]): void {
    const nowMs = this.options.clock.now().getTime();
    for (const subscription of this.live) {
      const expiresAt = subscription.expiresAtMs;
      if (expiresAt !== null && nowMs >= expiresAt) subscription.end('token_expired');
    }
    const lastSeq = (batch.at(-1) as EventRecord).seq;
    this.position = lastSeq;
    // Subscriptions of one group want the same events: they are picked once per group, and
    // each subscription is handed them in one call.
    for (const group of this.groups.values()) {
      let wanted: readonly ProServerEvent[] | undefined;
      for (const subscription of group) {
        wanted ??= Object.freeze(batch.filter((record) => subscription.wants(record)).map(sharedProServerEvent));
        subscription.offerMany(wanted, lastSeq);
      }
    }
    for (const subscription of this.live) subscription.advanceTo(this.position);
  }
}
