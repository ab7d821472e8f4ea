import type { JsonValue } from '../kv/types.js';
import type { EventRecord } from '../storage/ports.js';

/**
 * Notifier channel on which a sequencer pass (or the memory log) announces newly numbered
 * events. Every node's tailer listens to it. The payload is either the highest new seq
 * (`"42"`), or, from a PostgreSQL server pass that numbered few enough events to fit in a
 * notification, the seq with those events ({@link Announcement}), so that a tailer already
 * at the seq before them hands them out without reading the log.
 */
export const EVENTS_CHANNEL = 'events';

/** At most this many events ride in one announcement; a larger pass announces its seq only. */
export const ANNOUNCED_EVENTS_MAX = 100;
/** PostgreSQL refuses a notification payload of 8,000 bytes or more. */
export const ANNOUNCEMENT_MAX_BYTES = 7999;

/** What an `events` notification says: the highest new seq and, when they fit, the pass's events in seq order. */
export interface Announcement {
  last: number;
  events?: EventRecord[];
}

/**
 * The announcement a payload carries (undefined when it is not one): `"<seq>"`, or
 * `{"last": <seq>, "events": [[id, seq, type, subject, data, actor, at], …]}` as the
 * PostgreSQL store writes it (see `PgEventStore`).
 */
export function parseAnnouncement(payload: string): Announcement | undefined {
  if (!payload.startsWith('{')) {
    const seq = Number(payload);
    return payload !== '' && isSeq(seq) ? { last: seq } : undefined;
  }
  try {
    const parsed = JSON.parse(payload) as { last?: unknown; events?: unknown };
    if (!isSeq(parsed.last)) return undefined;
    const events = Array.isArray(parsed.events) ? parsed.events.map(toEventRecord) : undefined;
    if (!events || events.some((event) => event === undefined)) return { last: parsed.last };
    return { last: parsed.last, events: events as EventRecord[] };
  } catch {
    return undefined;
  }
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function toEventRecord(row: unknown): EventRecord | undefined {
  if (!Array.isArray(row) || row.length !== 7) return undefined;
  const [id, seq, type, subject, data, actor, at] = row as unknown[];
  if (typeof id !== 'string' || !isSeq(seq) || typeof type !== 'string' || typeof subject !== 'string')
    return undefined;
  if ((actor !== null && typeof actor !== 'string') || typeof at !== 'string') return undefined;
  return { id, seq, type, subject, data: (data ?? null) as JsonValue, actor, at: new Date(at) };
}
