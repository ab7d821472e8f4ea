/**
 * The key-value input schemas (SPEC §6), shared by core and the HTTP routes (which also feed
 * them to the OpenAPI document, so they avoid transforms that JSON Schema cannot express).
 *
 * Decisions where the spec is silent:
 * - Duplicate tags are rejected (not silently removed), so what a client sends is exactly
 *   what is stored.
 * - A value must be plain JSON: finite numbers, plain objects without `undefined` members,
 *   text without U+0000 or unpaired surrogates, nested at most {@link MAX_KV_VALUE_DEPTH}
 *   levels. Anything else would not round-trip the same way on every backend.
 */
import { z } from 'zod';
import { isUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../validation.js';
import type { JsonValue } from './types.js';

/**
 * Keys: ASCII letters, digits and `_ . : / @ -`, 1 to 512 characters.
 *
 * @example
 * KV_KEY_PATTERN.test('pipelines/main/last-build'); // true
 */
export const KV_KEY_PATTERN = /^[A-Za-z0-9_.:/@-]{1,512}$/;
/** Tags: like keys without `/`, 1 to 64 characters. */
export const KV_TAG_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;
/** At most this many tags per entry. */
export const MAX_KV_TAGS = 32;
/** The longest TTL: ten years of 365 days. */
export const MAX_KV_TTL_SECONDS = 10 * 365 * 24 * 3600;
/** Deeper values are refused (also stops cyclic objects passed in through the library). */
export const MAX_KV_VALUE_DEPTH = 256;
/** An import request carries at most this many lines. */
export const MAX_KV_IMPORT_LINES = 10_000;
const MAX_CURSOR_LENGTH = 2048;

/**
 * A key-value key.
 *
 * @example
 * kvKeySchema.parse('pipelines/main/last-build');
 */
export const kvKeySchema = z
  .string()
  .regex(KV_KEY_PATTERN, 'must be 1 to 512 characters of A-Z a-z 0-9 _ . : / @ -')
  // URL parsers resolve `.` and `..` path segments (even percent-encoded), so such a key could
  // never be addressed as /api/key-value/{key}: refuse it rather than store the unreachable.
  .refine((key) => !key.split('/').some((segment) => segment === '.' || segment === '..'), {
    message: 'must not contain a "." or ".." segment',
  });

/**
 * One tag.
 *
 * @example
 * kvTagSchema.parse('release');
 */
export const kvTagSchema = z.string().regex(KV_TAG_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 _ . : @ -');

/**
 * A list of at most 32 distinct tags (duplicates are a validation error).
 *
 * @example
 * kvTagsSchema.parse(['release', 'main']);
 */
export const kvTagsSchema = z
  .array(kvTagSchema)
  .max(MAX_KV_TAGS, `at most ${MAX_KV_TAGS} tags`)
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.forEach((tag, index) => {
      if (seen.has(tag)) {
        ctx.issues.push({ code: 'custom', message: `duplicate tag ${tag}`, input: tag, path: [index] });
      }
      seen.add(tag);
    });
  });

/**
 * Time to live in whole seconds: 1 second to 10 years.
 *
 * @example
 * kvTtlSecondsSchema.parse(3600);
 */
export const kvTtlSecondsSchema = z
  .number()
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1 second')
  .max(MAX_KV_TTL_SECONDS, 'must be at most 10 years');

/** Pushes an issue for the first part of `value` that is not storable JSON. */
function checkJson(value: unknown, path: PropertyKey[], depth: number, issues: JsonIssue[]): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (isUnstorableText(value)) issues.push({ path, message: UNSTORABLE_TEXT_MESSAGE });
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) issues.push({ path, message: 'numbers must be finite' });
    return;
  }
  if (depth >= MAX_KV_VALUE_DEPTH) {
    issues.push({ path, message: `nested deeper than ${MAX_KV_VALUE_DEPTH} levels` });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && issues.length === 0; i++) checkJson(value[i], [...path, i], depth + 1, issues);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      issues.push({ path, message: 'must be a plain JSON object' });
      return;
    }
    for (const [name, member] of Object.entries(value)) {
      if (issues.length > 0) return;
      if (isUnstorableText(name)) {
        issues.push({ path: [...path, name], message: `member names ${UNSTORABLE_TEXT_MESSAGE}` });
        return;
      }
      checkJson(member, [...path, name], depth + 1, issues);
    }
    return;
  }
  issues.push({ path, message: value === undefined ? 'is required' : `${typeof value} is not a JSON value` });
}

interface JsonIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Any JSON value, including `null`; `undefined` (a missing value) is an error. Declared as
 * `unknown` plus a check rather than a recursive union: it validates large values much
 * faster and still documents as "any JSON" in JSON Schema.
 *
 * @example
 * kvValueSchema.parse({ id: 42, tags: ['a'] });
 */
export const kvValueSchema = z.unknown().check((ctx) => {
  const issues: JsonIssue[] = [];
  checkJson(ctx.value, [], 0, issues);
  for (const issue of issues) {
    ctx.issues.push({ code: 'custom', message: issue.message, input: ctx.value, path: issue.path });
  }
}) as unknown as z.ZodType<JsonValue>;

/**
 * Body of create and upsert.
 *
 * @example
 * parseInput(kvSetInputSchema, { key: 'a/b', value: 1, ttlSeconds: 60, tags: ['x'] });
 */
export const kvSetInputSchema = z.strictObject({
  key: kvKeySchema,
  value: kvValueSchema,
  ttlSeconds: kvTtlSecondsSchema.optional(),
  tags: kvTagsSchema.optional(),
});

/**
 * Body of update: `ttlSeconds` omitted keeps the expiry, `null` removes it; `tags` omitted
 * keeps the tags.
 *
 * @example
 * parseInput(kvUpdateInputSchema, { value: 2, ttlSeconds: null });
 */
export const kvUpdateInputSchema = z.strictObject({
  value: kvValueSchema,
  ttlSeconds: kvTtlSecondsSchema.nullable().optional(),
  tags: kvTagsSchema.optional(),
});

/**
 * Body of increment: `by` is any finite number (default 1).
 *
 * @example
 * parseInput(kvIncrementInputSchema, {}).by; // 1
 */
export const kvIncrementInputSchema = z.strictObject({
  by: z.number().default(1),
});

/**
 * Query string of the list (and export) route; `limit` arrives as a string.
 *
 * @example
 * parseInput(kvListOptionsSchema, { prefix: 'pipelines/', limit: '100' });
 */
export const kvListOptionsSchema = z.strictObject({
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.:/@-]{0,512}$/, 'must be at most 512 characters of A-Z a-z 0-9 _ . : / @ -')
    .optional(),
  tag: kvTagSchema.optional(),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
});

/**
 * One NDJSON import line. It has the export format, so fields such as `version`,
 * `createdAt` and `updatedAt` are accepted and ignored; an export imports back as it is.
 *
 * @example
 * parseInput(kvImportLineSchema, { key: 'a', value: 1, expiresAt: '2030-01-01T00:00:00.000Z', version: 3 });
 */
export const kvImportLineSchema = z.object({
  key: kvKeySchema,
  value: kvValueSchema,
  tags: kvTagsSchema.optional(),
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
});
