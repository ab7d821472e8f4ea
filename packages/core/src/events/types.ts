import type { Principal } from '../auth/types.js';
import type { JsonValue } from '../kv/types.js';

/** An event as clients see it (SPEC §4). `seq` is strictly increasing in the order readers see events. */
export interface ProServerEvent {
  seq: number;
  id: string;
  type: string;
  subject: string;
  data: JsonValue;
  /** The acting principal's id (`tok_…`), `system`, or null. */
  actor: string | null;
  at: string;
}

/** Why a live subscription ended. */
export type SubscriptionEndReason = 'closed' | 'token_revoked' | 'token_expired' | 'shutdown';

export interface EventSubscription {
  /** Seq of the last event delivered to the handler (or the starting point). */
  readonly lastSeq: number;
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Replay every matching event with `seq > since` first (EVENTS_EXPIRED when older than retention). */
  since?: number;
  /** Called once when the subscription ends for a reason other than `close()`. */
  onEnd?: (reason: SubscriptionEndReason) => void;
}

/**
 * The event log (SPEC §4). Reached as `core.events`. Topics: `task:<id>`, `tasks`,
 * `kv:<key pattern>`, `docs:<path pattern>`, `locks:<pattern>`, `events:<type pattern>`
 * (for example `events:custom.*`); patterns use the scope glob (`*` one segment, `**` any).
 * A principal only receives events its scopes allow.
 *
 * @example
 * const sub = await core.events.subscribe(principal, ['tasks'], (event) => console.log(event.type), { since: 0 });
 * await sub.close();
 */
export interface EventService {
  /** Publishes a client event; `type` must be `custom.<name>`. */
  publish(actor: Principal, input: { type: string; data?: JsonValue; subject?: string }): Promise<ProServerEvent>;
  /** Polling: matching, visible events with `seq > after` (default: the oldest retained), oldest first. */
  read(
    actor: Principal,
    options: { topics: string[]; after?: number; limit?: number },
  ): Promise<{ items: ProServerEvent[]; nextAfter: number }>;
  /** Live: replays from `since`, then delivers new events in seq order, without gaps, across nodes. */
  subscribe(
    actor: Principal,
    topics: string[],
    handler: (event: ProServerEvent) => void,
    options?: SubscribeOptions,
  ): Promise<EventSubscription>;
}
