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
  /**
   * How far the subscription has looked: every matching, visible event up to this seq has been
   * delivered (so it is the `since` to resume from, even when the last events did not match).
   */
  readonly lastSeq: number;
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Replay every matching event with `seq > since` first (EVENTS_EXPIRED when older than retention). */
  since?: number;
  /** Called once when the subscription ends for a reason other than `close()`. */
  onEnd?: (reason: SubscriptionEndReason) => void;
  /**
   * For transports that fan events out to many subscribers: live events handed out together
   * (one dispatch of the log's new events) arrive in one call, in seq order, instead of one
   * `handler` call each; the array is shared by every subscription that sees the same events
   * (same topics and visibility) and must not be changed. Replayed events (`since`) still go
   * to `handler`, one by one, before any batch.
   */
  onBatch?: (events: readonly ProServerEvent[]) => void;
}

/** `createCore({events})`. */
export interface EventLogConfig {
  /** How long events are kept (default 7 days). */
  retentionMs?: number;
  /** Periodic sequencer pass, which numbers events whose wake-up was lost (default 250 ms). */
  sequencerIntervalMs?: number;
  /**
   * Under a stream of writes, a sequencer pass starts at least this long after the previous
   * one, so one pass numbers the events of several writes; a lone write's events are numbered
   * at once (default 5 ms; 0: a pass after every write).
   */
  sequencerMinPassIntervalMs?: number;
  /** Periodic read of the log by this process's tailer, in case a notification was lost (default 1 s). */
  pollIntervalMs?: number;
  /**
   * Shortest time between two progress writes (and so `task.progress`/`task.stage`/`task.log`
   * events) of one task (default 250 ms; `tasks.progressIntervalMs` wins when both are set).
   */
  progressEventIntervalMs?: number;
  /** How often the retention purge runs (default 60 s; 0 disables it, `purgeExpired()` stays callable). */
  purgeIntervalMs?: number;
}

export type EventLogSettings = Required<Omit<EventLogConfig, 'progressEventIntervalMs'>>;

/**
 * The defaults of {@link EventLogConfig}.
 *
 * @example
 * resolveEventLogSettings({ retentionMs: 24 * 3600_000 });
 */
export function resolveEventLogSettings(config: EventLogConfig = {}): EventLogSettings {
  return {
    retentionMs: config.retentionMs ?? 7 * 24 * 3600 * 1000,
    sequencerIntervalMs: config.sequencerIntervalMs ?? 250,
    sequencerMinPassIntervalMs: config.sequencerMinPassIntervalMs ?? 5,
    pollIntervalMs: config.pollIntervalMs ?? 1000,
    purgeIntervalMs: config.purgeIntervalMs ?? 60_000,
  };
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
  /**
   * Calls `onEnd` when `actor`'s token stops being valid (revoked, expired, its user deleted),
   * like a subscription to nothing: a connection with nothing subscribed yet still closes
   * then. Throws as `subscribe` does if the token is already invalid. Close it when done.
   */
  watch(actor: Principal, onEnd: (reason: SubscriptionEndReason) => void): Promise<EventSubscription>;
  /** Numbers the events this process appended so far (reads after it include them). */
  flush(): Promise<void>;
  /** Deletes events older than the retention now (the retention loop calls it); returns how many. */
  purgeExpired(): Promise<number>;
}

/** The service plus what core itself drives (not for apps). */
export interface EventLog extends EventService {
  /** Ends every subscription (`shutdown`) and stops the loops. */
  close(): Promise<void>;
  /** A local write (that may have) appended events: number them soon. `appended`: it did. */
  wakeSequencer(options?: { appended?: boolean }): void;
}
