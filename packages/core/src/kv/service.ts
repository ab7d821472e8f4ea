import { z } from 'zod';
import { actorIdOf } from '../auth/actor.js';
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, MAX_PAGE_LIMIT, type Page } from '../pagination.js';
import type { ChangeContext, KvRecord, KvStore, KvWrite } from '../storage/ports.js';
import { jsonByteLength, parseInput } from '../validation.js';
import { validateImportLines } from './import-lines.js';
import type { JsonValue, KvEntry, KvImportResult, KvListOptions, KvService, KvWriteOptions } from './types.js';
import {
  kvIncrementInputSchema,
  kvKeySchema,
  kvListOptionsSchema,
  kvSetInputSchema,
  kvUpdateInputSchema,
} from './validation.js';

export interface KvServiceOptions {
  store: KvStore;
  clock: Clock;
  /** Event ids (every write appends its `kv.*` events). */
  ids: Ids;
  /** Largest value, as UTF-8 JSON text. */
  maxValueBytes: number;
}

/** The sweeper deletes this many expired rows per statement, so no transaction grows large. */
const SWEEP_BATCH_SIZE = 1000;
/** Export reads pages of the largest size a list allows. */
const EXPORT_PAGE_SIZE = MAX_PAGE_LIMIT;

const keyInputSchema = z.strictObject({ key: kvKeySchema });
const versionOptionsSchema = z.strictObject({
  ifVersion: z.number().int('must be a whole number').min(0).optional(),
});

interface KvCursor extends Record<string, unknown> {
  k: string;
}

const isKvCursor = (value: Record<string, unknown>): value is KvCursor =>
  typeof value.k === 'string' && value.k.length <= 512;

/** Maps a store record (Dates) to what clients see (ISO strings). */
function toEntry(record: KvRecord): KvEntry {
  return {
    key: record.key,
    value: record.value,
    version: record.version,
    tags: record.tags,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

/**
 * The key-value service (SPEC §6) over any {@link KvStore}. Every input is validated here,
 * so the HTTP layer and library callers get the same errors.
 *
 * @example
 * const kv = createKvService({ store: new MemoryKvStore(), clock: systemClock, maxValueBytes: 256 * 1024 });
 * await kv.create({ key: 'a/b', value: { n: 1 }, ttlSeconds: 60 });
 */
export function createKvService(options: KvServiceOptions): KvService {
  const { store, clock, ids, maxValueBytes } = options;

  /** Who made a change, for its events. */
  const changeBy = (writeOptions: KvWriteOptions | undefined): ChangeContext => ({
    actor: actorIdOf(writeOptions?.actor),
    ids,
  });

  const parseKey = (key: unknown): string => parseInput(keyInputSchema, { key }).key;

  const parseVersion = (versionOptions: { ifVersion?: number; actor?: unknown } | undefined): number | undefined => {
    const { actor: _actor, ...rest } = versionOptions ?? {};
    return parseInput(versionOptionsSchema, rest, 'options').ifVersion;
  };

  const checkSize = (value: JsonValue): void => {
    const size = jsonByteLength(value);
    if (size > maxValueBytes) {
      throw new ProServerError('PAYLOAD_TOO_LARGE', `value is ${size} bytes; the limit is ${maxValueBytes}`, {
        details: { size, maxValueBytes },
      });
    }
  };

  const expiryFrom = (ttlSeconds: number, now: Date): Date => new Date(now.getTime() + ttlSeconds * 1000);

  const toWrite = (input: unknown, now: Date): KvWrite => {
    const parsed = parseInput(kvSetInputSchema, input);
    checkSize(parsed.value);
    return {
      key: parsed.key,
      value: parsed.value,
      tags: parsed.tags ?? [],
      expiresAt: parsed.ttlSeconds === undefined ? null : expiryFrom(parsed.ttlSeconds, now),
    };
  };

  const notFound = (key: string): ProServerError => new ProServerError('NOT_FOUND', `key ${key} does not exist`);

  /** After a conditional write matched nothing: missing key, or a version mismatch. */
  const explainMiss = async (key: string, ifVersion: number | undefined, now: Date): Promise<never> => {
    const current = ifVersion === undefined ? null : await store.get(key, now);
    if (!current) throw notFound(key);
    throw new ProServerError('PRECONDITION_FAILED', `key ${key} is at version ${current.version}, not ${ifVersion}`, {
      details: { currentVersion: current.version },
    });
  };

  const list = async (listOptions: KvListOptions = {}): Promise<Page<KvEntry>> => {
    const { visible, ...query } = listOptions;
    const parsed = parseInput(kvListOptionsSchema, query, 'list options');
    const limit = parsed.limit ?? DEFAULT_PAGE_LIMIT;
    const afterKey = parsed.cursor === undefined ? undefined : decodeCursor(parsed.cursor, isKvCursor).k;
    // One extra row tells whether another page exists without a second query.
    const records = await store.list(
      {
        limit: limit + 1,
        ...(parsed.prefix ? { prefix: parsed.prefix } : {}),
        ...(parsed.tag === undefined ? {} : { tag: parsed.tag }),
        ...(afterKey === undefined ? {} : { afterKey }),
      },
      clock.now(),
    );
    const scanned = records.slice(0, limit);
    const last = scanned.at(-1);
    // The cursor comes from the last scanned key, not the last visible one, so a page whose
    // entries are all hidden still moves the caller forward.
    const nextCursor = records.length > limit && last ? encodeCursor({ k: last.key }) : null;
    const items = (visible ? scanned.filter((record) => visible(record.key)) : scanned).map(toEntry);
    return { items, nextCursor };
  };

  return {
    async create(input, writeOptions) {
      const now = clock.now();
      const write = toWrite(input, now);
      const record = await store.insert(write, now, changeBy(writeOptions));
      if (!record) throw new ProServerError('ALREADY_EXISTS', `key ${write.key} already exists`);
      return toEntry(record);
    },

    async upsert(input, writeOptions) {
      const now = clock.now();
      return toEntry(await store.upsert(toWrite(input, now), now, changeBy(writeOptions)));
    },

    async get(key) {
      const parsedKey = parseKey(key);
      const record = await store.get(parsedKey, clock.now());
      if (!record) throw notFound(parsedKey);
      return toEntry(record);
    },

    async update(key, input, updateOptions) {
      const parsedKey = parseKey(key);
      const parsed = parseInput(kvUpdateInputSchema, input);
      const ifVersion = parseVersion(updateOptions);
      checkSize(parsed.value);
      const now = clock.now();
      const change = {
        value: parsed.value,
        ...(parsed.tags === undefined ? {} : { tags: parsed.tags }),
        ...(parsed.ttlSeconds === undefined
          ? {}
          : { expiresAt: parsed.ttlSeconds === null ? null : expiryFrom(parsed.ttlSeconds, now) }),
      };
      const record = await store.update(parsedKey, change, ifVersion, now, changeBy(updateOptions));
      return record ? toEntry(record) : explainMiss(parsedKey, ifVersion, now);
    },

    async delete(key, deleteOptions) {
      const parsedKey = parseKey(key);
      const ifVersion = parseVersion(deleteOptions);
      const now = clock.now();
      const record = await store.delete(parsedKey, ifVersion, now, changeBy(deleteOptions));
      return record ? toEntry(record) : explainMiss(parsedKey, ifVersion, now);
    },

    async increment(key, by, writeOptions) {
      const parsedKey = parseKey(key);
      const parsed = parseInput(kvIncrementInputSchema, by === undefined ? {} : { by });
      const record = await store.increment(parsedKey, parsed.by, clock.now(), changeBy(writeOptions));
      if (!record) {
        throw new ProServerError(
          'NOT_A_NUMBER',
          `the value of key ${parsedKey} is not a number (or adding ${parsed.by} leaves the number range)`,
        );
      }
      return toEntry(record);
    },

    list,

    async *export(exportOptions = {}) {
      let cursor: string | undefined;
      do {
        const page = await list({ ...exportOptions, limit: EXPORT_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    async import(lines, writeOptions): Promise<KvImportResult> {
      const now = clock.now();
      const { writes, skipped } = validateImportLines(lines, now, maxValueBytes);
      const counts =
        writes.length > 0 ? await store.importEntries(writes, now, changeBy(writeOptions)) : { created: 0, updated: 0 };
      return { ...counts, skipped };
    },

    async sweepExpired() {
      let total = 0;
      for (;;) {
        const deleted = await store.deleteExpired(clock.now(), SWEEP_BATCH_SIZE, changeBy(undefined));
        total += deleted.length;
        if (deleted.length < SWEEP_BATCH_SIZE) return total;
      }
    },
  };
}
