import type { KvRecord } from '../storage/ports.js';
import { jsonByteLength } from '../validation.js';
import type { JsonValue } from './types.js';

/** A `kv.set` event carries the value when its JSON is at most this long, else `valueOmitted: true`. */
export const KV_EVENT_VALUE_LIMIT = 8 * 1024;

/** The key-value event types (SPEC §4). */
export const KV_EVENTS = { set: 'kv.set', deleted: 'kv.deleted', expired: 'kv.expired' } as const;

/**
 * The `data` of a key-value event: `{key, version, tags, expiresAt}`, and for `kv.set` the
 * value (or `valueOmitted: true` when larger than {@link KV_EVENT_VALUE_LIMIT}). Deleted and
 * expired entries carry no value: it is gone, and their subscribers want to know which key.
 * The PostgreSQL store builds the same object in SQL (`kvEventDataSql`).
 *
 * @example
 * kvEventData(record, true); // { key: 'a', version: 2, tags: [], expiresAt: null, value: 1 }
 */
export function kvEventData(record: KvRecord, withValue: boolean): JsonValue {
  const data: Record<string, JsonValue> = {
    key: record.key,
    version: record.version,
    tags: [...record.tags],
    expiresAt: record.expiresAt?.toISOString() ?? null,
  };
  if (!withValue) return data;
  if (kvValueFitsEvent(record.value)) data.value = structuredClone(record.value);
  else data.valueOmitted = true;
  return data;
}

/** Whether a value is small enough to travel inside its event. */
export function kvValueFitsEvent(value: JsonValue): boolean {
  return jsonByteLength(value) <= KV_EVENT_VALUE_LIMIT;
}
