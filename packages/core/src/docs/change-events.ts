/**
 * The change feed is read from the event log: every document change appends one `doc.*`
 * event in its own unit of work, and the log numbers events (`seq`) in the order readers see
 * them, which revisions (taken inside concurrent transactions) do not promise.
 */
import type { DocChangeRecord, EventRecord } from '../storage/ports.js';
import { DOC_EVENT_TYPES } from './commit-plan.js';

const OP_BY_TYPE = new Map<string, DocChangeRecord['op']>(
  Object.entries(DOC_EVENT_TYPES).map(([op, type]) => [type, op as DocChangeRecord['op']]),
);

/** The `doc.*` event types, for filters. */
export const DOC_CHANGE_EVENT_TYPES: readonly string[] = [...OP_BY_TYPE.keys()];

/**
 * The change-feed entry of an event; null when it is not a document change.
 *
 * @example
 * docChangeFromEvent({ seq: 7, type: 'doc.created', subject: 'a/1', data: { path: 'a/1', collection: 'a',
 *   id: '1', version: 1, revision: 3 }, actor: null, at, id: 'evt_…' }); // { seq: 7, op: 'create', … }
 */
export function docChangeFromEvent(event: EventRecord): DocChangeRecord | null {
  const op = OP_BY_TYPE.get(event.type);
  if (op === undefined || typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
    return null;
  }
  const data = event.data as Record<string, unknown>;
  return {
    seq: event.seq,
    op,
    path: event.subject,
    collection: String(data.collection),
    id: String(data.id),
    version: Number(data.version),
    revision: Number(data.revision),
    at: event.at,
    // History records a missing actor as `system`; the feed says the same.
    actor: event.actor ?? 'system',
  };
}
