import { encodeKeyPath } from './key-path.js';
import { parseNdjson, toNdjson } from './ndjson.js';
import { paginate } from './pagination.js';
import type { Transport } from './transport.js';
import type {
  KvEntry,
  KvFilter,
  KvImportEntry,
  KvImportResult,
  KvListOptions,
  KvSetInput,
  KvUpdateInput,
  KvWriteCondition,
  Page,
} from './types.js';

const BASE = '/key-value';
const NDJSON = 'application/x-ndjson';

/**
 * The key-value store (`/api/key-value`, SPEC §6). Reached as `client.kv`.
 *
 * @example
 * await client.kv.upsert({ key: 'pipelines/main/status', value: 'green' });
 * const entry = await client.kv.get('pipelines/main/status');
 * await client.kv.update(entry.key, { value: 'red' }, { ifVersion: entry.version });
 */
export interface KvClient {
  /** Creates a key; `ALREADY_EXISTS` (409) if it exists. */
  create(input: KvSetInput): Promise<KvEntry>;
  /** Creates or replaces a key (value, tags and expiry all from the input). */
  upsert(input: KvSetInput): Promise<KvEntry>;
  /** `NOT_FOUND` (404) when missing or expired. */
  get(key: string): Promise<KvEntry>;
  /** Replaces the value; with `ifVersion`, only if unchanged (`PRECONDITION_FAILED`, 412). */
  update(key: string, input: KvUpdateInput, condition?: KvWriteCondition): Promise<KvEntry>;
  /** Deletes a key; with `ifVersion`, only if unchanged. */
  delete(key: string, condition?: KvWriteCondition): Promise<void>;
  /** Atomically adds `by` (default 1), creating the key at 0 first; `NOT_A_NUMBER` (409) otherwise. */
  increment(key: string, by?: number): Promise<KvEntry>;
  /** One page of entries in key order. */
  list(options?: KvListOptions): Promise<Page<KvEntry>>;
  /** Every page, following the cursors (starting at `options.cursor` if given). */
  listAll(options?: KvListOptions): AsyncIterable<Page<KvEntry>>;
  /** Every matching entry, streamed as NDJSON and parsed as it arrives. */
  export(options?: KvFilter): AsyncIterable<KvEntry>;
  /** Writes all entries in one atomic request (NDJSON); the server caps the lines per request. */
  import(entries: Iterable<KvImportEntry> | AsyncIterable<KvImportEntry>): Promise<KvImportResult>;
}

/** Builds the key-value section of a client. */
export function createKvClient(transport: Transport): KvClient {
  // Callers are async so that a refused key rejects the promise instead of throwing synchronously.
  const keyPath = (key: string) => `${BASE}/${encodeKeyPath(key)}`;
  const ifMatch = (condition?: KvWriteCondition): Record<string, string> =>
    condition?.ifVersion === undefined ? {} : { 'if-match': `"${condition.ifVersion}"` };
  const list = (options: KvListOptions = {}) =>
    transport.json<Page<KvEntry>>({
      method: 'GET',
      path: BASE,
      query: { prefix: options.prefix, tag: options.tag, cursor: options.cursor, limit: options.limit },
    });

  return {
    create: (input) => transport.json({ method: 'POST', path: BASE, json: input }),
    upsert: (input) => transport.json({ method: 'POST', path: `${BASE}/upsert`, json: input }),
    get: async (key) => transport.json({ method: 'GET', path: keyPath(key) }),
    update: async (key, input, condition) =>
      transport.json({ method: 'PUT', path: keyPath(key), json: input, headers: ifMatch(condition) }),
    async delete(key, condition) {
      const response = await transport.send({ method: 'DELETE', path: keyPath(key), headers: ifMatch(condition) });
      await response.body?.cancel();
    },
    increment: async (key, by = 1) =>
      transport.json({ method: 'POST', path: `${keyPath(key)}/increment`, json: { by } }),
    list,
    listAll: (options = {}) => paginate((cursor) => list({ ...options, cursor }), options.cursor),
    async *export(options = {}) {
      const response = await transport.send({
        method: 'GET',
        path: BASE,
        query: { prefix: options.prefix, tag: options.tag },
        headers: { accept: NDJSON },
      });
      yield* parseNdjson(response) as AsyncGenerator<KvEntry>;
    },
    async import(entries) {
      // One request, one transaction on the server: the body is built whole, not streamed,
      // because streamed uploads need HTTP/2 in browsers and the server reads it all anyway.
      const body = await toNdjson(entries);
      return transport.json({ method: 'POST', path: `${BASE}/import`, raw: { body, contentType: NDJSON } });
    },
  };
}
