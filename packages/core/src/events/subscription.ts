import type { Principal } from '../auth/types.js';
import type { Logger } from '../logger.js';
import type { EventRecord } from '../storage/ports.js';
import type { TopicSet } from './topics.js';
import type { EventSubscription, ProServerEvent, SubscriptionEndReason } from './types.js';
import { canSeeEvent } from './visibility.js';

/** The client-facing form of each record, made once: see {@link sharedProServerEvent}. */
const shared = new WeakMap<EventRecord, ProServerEvent>();

/**
 * The event as clients see it (ISO time), one frozen object per record: the tailer hands one
 * record to every subscription, so all of a node's subscribers receive the same object, and a
 * transport can serialise it once for all of them (http's ws/event-json.ts caches by object).
 * Handlers must treat events as read-only (the top level is frozen).
 */
export function sharedProServerEvent(record: EventRecord): ProServerEvent {
  let event = shared.get(record);
  if (event === undefined) {
    event = Object.freeze(toProServerEvent(record));
    shared.set(record, event);
  }
  return event;
}

/** The event as clients see it (ISO time). */
export function toProServerEvent(record: EventRecord): ProServerEvent {
  return {
    seq: record.seq,
    id: record.id,
    type: record.type,
    subject: record.subject,
    data: record.data,
    actor: record.actor,
    at: record.at.toISOString(),
  };
}

export interface SubscriptionOptions {
  principal: Principal;
  topics: TopicSet;
  handler: (event: ProServerEvent) => void;
  /** Takes live events handed out together in one call (see SubscribeOptions.onBatch). */
  onBatch?: ((events: readonly ProServerEvent[]) => void) | undefined;
  onEnd: ((reason: SubscriptionEndReason) => void) | undefined;
  /** Start after this seq. */
  cursor: number;
  /** When the principal's token expires (ms since epoch), if it is a token. */
  expiresAtMs: number | null;
  logger: Logger;
  /** Removes the subscription from whatever dispatches to it. */
  detach: (subscription: Subscription) => void;
  /** The subscription's {@link Subscription.matchKey} changed from `before` (its dispatcher regroups it). */
  onMatchKeyChange?: (subscription: Subscription, before: string) => void;
}

/**
 * One live subscription. `deliver` is called in seq order (by the catch-up reader, then by the
 * tailer) and ignores what it has already passed, so the two may overlap without duplicates.
 * The handler runs synchronously for each event: nothing is queued here (a transport that
 * cannot send at once must bound its own buffer and end the subscription when it overflows).
 */
export class Subscription implements EventSubscription {
  private key: string | undefined;
  /** Every event up to here has been looked at (delivered when it matched and was visible). */
  private cursor: number;
  live = false;
  private ended = false;
  private who: Principal;

  constructor(private readonly options: SubscriptionOptions) {
    this.cursor = options.cursor;
    this.who = options.principal;
  }

  get principal(): Principal {
    return this.who;
  }

  /** A new principal (the token's user changed role): the match key follows, and so does the dispatcher's grouping. */
  set principal(next: Principal) {
    const before = this.matchKey;
    this.who = next;
    this.key = undefined;
    if (this.matchKey !== before) this.options.onMatchKeyChange?.(this, before);
  }

  get lastSeq(): number {
    return this.cursor;
  }

  get closed(): boolean {
    return this.ended;
  }

  get tokenId(): string | null {
    return this.principal.kind === 'token' ? this.principal.tokenId : null;
  }

  get expiresAtMs(): number | null {
    return this.options.expiresAtMs;
  }

  get filter() {
    return this.options.topics.filter;
  }

  /**
   * Subscriptions with the same key see the same events (same topics, same visibility), so a
   * dispatcher may ask {@link Subscription.wants} once per event for all of them.
   */
  get matchKey(): string {
    this.key ??= matchKeyOf(this.principal, this.options.topics);
    return this.key;
  }

  /** Whether `record` is for this subscription: one of its topics, and visible to its principal. */
  wants(record: EventRecord): boolean {
    return this.options.topics.matches(record) && canSeeEvent(this.principal, record);
  }

  /** One event read for this subscription alone (catching up from `since`). */
  deliver(record: EventRecord): void {
    if (this.ended || record.seq <= this.cursor) return;
    this.cursor = record.seq;
    if (this.wants(record)) this.handOut(sharedProServerEvent(record));
  }

  /**
   * The events of one dispatch: `wanted` are those of them this subscription's group wants
   * (in seq order, the same array for the whole group), `lastSeq` the last of them all. Those
   * at or below the cursor were seen already (a subscription that caught up past the tailer).
   */
  offerMany(wanted: readonly ProServerEvent[], lastSeq: number): void {
    if (this.ended || lastSeq <= this.cursor) return;
    const cursor = this.cursor;
    const first = wanted[0];
    const unseen = first !== undefined && first.seq <= cursor ? wanted.filter((e) => e.seq > cursor) : wanted;
    this.cursor = lastSeq;
    if (unseen.length === 0) return;
    const { onBatch } = this.options;
    if (onBatch) {
      try {
        onBatch(unseen);
      } catch (error) {
        this.handlerFailed(error, unseen[0]?.seq);
      }
      return;
    }
    for (const event of unseen) {
      if (this.ended) return;
      this.handOut(event);
    }
  }

  /** Calls the handler: a throwing one loses this event only; the tailer and other subscriptions go on. */
  private handOut(event: ProServerEvent): void {
    try {
      this.options.handler(event);
    } catch (error) {
      this.handlerFailed(error, event.seq);
    }
  }

  private handlerFailed(error: unknown, seq: number | undefined): void {
    this.options.logger.warn('event subscription handler failed', { error: String(error), seq });
  }

  /** Everything up to `seq` has been looked at (no matching event in between). */
  advanceTo(seq: number): void {
    if (seq > this.cursor) this.cursor = seq;
  }

  /** Ends the subscription and tells its owner why (not called for `close()`). */
  end(reason: SubscriptionEndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.options.detach(this);
    try {
      this.options.onEnd?.(reason);
    } catch (error) {
      this.options.logger.warn('event subscription onEnd failed', { error: String(error), reason });
    }
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.options.detach(this);
  }
}

/** Everything {@link Subscription.wants} depends on: the topics, and what the principal may read. */
function matchKeyOf(principal: Principal, topics: TopicSet): string {
  const who =
    principal.kind === 'system' ? ['system'] : [principal.kind, principal.role, principal.userId, ...principal.scopes];
  return JSON.stringify([[...topics.topics].sort(), who]);
}
