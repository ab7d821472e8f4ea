import type { Principal } from '../auth/types.js';
import type { Logger } from '../logger.js';
import type { EventRecord } from '../storage/ports.js';
import type { TopicSet } from './topics.js';
import type { EventSubscription, ProServerEvent, SubscriptionEndReason } from './types.js';
import { canSeeEvent } from './visibility.js';

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
  onEnd: ((reason: SubscriptionEndReason) => void) | undefined;
  /** Start after this seq. */
  cursor: number;
  /** When the principal's token expires (ms since epoch), if it is a token. */
  expiresAtMs: number | null;
  logger: Logger;
  /** Removes the subscription from whatever dispatches to it. */
  detach: (subscription: Subscription) => void;
}

/**
 * One live subscription. `deliver` is called in seq order (by the catch-up reader, then by the
 * tailer) and ignores what it has already passed, so the two may overlap without duplicates.
 * The handler runs synchronously for each event: nothing is queued here (a transport that
 * cannot send at once must bound its own buffer and end the subscription when it overflows).
 */
export class Subscription implements EventSubscription {
  /** Every event up to here has been looked at (delivered when it matched and was visible). */
  private cursor: number;
  live = false;
  private ended = false;
  principal: Principal;

  constructor(private readonly options: SubscriptionOptions) {
    this.cursor = options.cursor;
    this.principal = options.principal;
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

  deliver(record: EventRecord): void {
    if (this.ended || record.seq <= this.cursor) return;
    this.cursor = record.seq;
    if (!this.options.topics.matches(record) || !canSeeEvent(this.principal, record)) return;
    try {
      this.options.handler(toProServerEvent(record));
    } catch (error) {
      // A throwing handler loses this event only: the tailer and other subscriptions go on.
      this.options.logger.warn('event subscription handler failed', { error: String(error), seq: record.seq });
    }
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
