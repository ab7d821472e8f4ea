/**
 * The document-store input schemas (SPEC §5), shared by core and the HTTP routes. Paths and
 * filters are checked by their own parsers (paths.ts, filter.ts), which give precise
 * messages; these schemas check the shapes around them.
 */
import { z } from 'zod';
import { kvValueSchema } from '../kv/validation.js';
import type { DocPrecondition, JsonObject } from './types.js';

/** Most writes in one commit. */
export const MAX_COMMIT_WRITES = 500;
/** Most fields in a projection. */
export const MAX_SELECT_FIELDS = 64;
const MAX_CURSOR_LENGTH = 4096;

/**
 * A document's data: a plain JSON object (no U+0000, no lone surrogates, finite numbers).
 *
 * @example
 * docDataSchema.parse({ name: 'Acme', tags: ['a'] });
 */
export const docDataSchema = kvValueSchema.refine(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'a document is a JSON object' },
) as unknown as z.ZodType<JsonObject>;

const positiveInt = z.number().int('must be a whole number').min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * Preconditions of a write. `exists: false` with `revision` or `version` can never hold: refused.
 *
 * @example
 * docPreconditionSchema.parse({ revision: 42 });
 */
export const docPreconditionSchema = z
  .strictObject({ exists: z.boolean().optional(), revision: positiveInt.optional(), version: positiveInt.optional() })
  .refine((p) => !(p.exists === false && (p.revision !== undefined || p.version !== undefined)), {
    message: 'conflicting preconditions: exists false with a revision or version',
  }) as z.ZodType<DocPrecondition>;

/**
 * One RFC 6902 operation.
 *
 * @example
 * jsonPatchOperationSchema.parse({ op: 'test', path: '/status', value: 'green' });
 */
export const jsonPatchOperationSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.enum(['add', 'replace', 'test']), path: z.string().max(4096), value: kvValueSchema }),
  z.strictObject({ op: z.literal('remove'), path: z.string().max(4096) }),
  z.strictObject({ op: z.enum(['move', 'copy']), from: z.string().max(4096), path: z.string().max(4096) }),
]);

/**
 * A patch: merge patch (object) or JSON patch (array of at most 1000 operations).
 *
 * @example
 * docPatchSchema.parse([{ op: 'remove', path: '/draft' }]);
 */
export const docPatchSchema = z.union([z.array(jsonPatchOperationSchema).max(1000), docDataSchema]);

/**
 * One write of a commit.
 *
 * @example
 * commitWriteSchema.parse({ op: 'delete', path: 'projects/old', expect: { exists: true } });
 */
export const commitWriteSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('set'),
    path: z.string(),
    data: docDataSchema,
    expect: docPreconditionSchema.optional(),
  }),
  z.strictObject({
    op: z.literal('patch'),
    path: z.string(),
    data: docPatchSchema,
    expect: docPreconditionSchema.optional(),
  }),
  z.strictObject({
    op: z.literal('delete'),
    path: z.string(),
    expect: docPreconditionSchema.optional(),
    recursive: z.boolean().optional(),
  }),
]);

/**
 * Body of `POST /commit`.
 *
 * @example
 * commitInputSchema.parse({ writes: [{ op: 'set', path: 'a/b', data: {} }] });
 */
export const commitInputSchema = z.strictObject({
  writes: z.array(commitWriteSchema).min(1).max(MAX_COMMIT_WRITES),
});

/**
 * Body of `PUT /docs/{docPath}`: the data, and optionally the version it must replace.
 *
 * @example
 * docPutBodySchema.parse({ data: { name: 'Acme' }, expectedVersion: 3 });
 */
export const docPutBodySchema = z.strictObject({ data: docDataSchema, expectedVersion: positiveInt.optional() });

const orderTermSchema = z.strictObject({ field: z.string(), direction: z.enum(['asc', 'desc']).default('asc') });
const selectSchema = z.array(z.string()).max(MAX_SELECT_FIELDS);
const limitSchema = z.number().int('must be a whole number').min(1).max(1000);
const cursorSchema = z.string().min(1).max(MAX_CURSOR_LENGTH);

/**
 * Body of `POST /query`.
 *
 * @example
 * docQuerySchema.parse({ from: { collection: 'checks', allDescendants: true }, where: { status: 'failed' } });
 */
export const docQuerySchema = z.strictObject({
  from: z.strictObject({
    collection: z.string(),
    parent: z.string().optional(),
    allDescendants: z.boolean().optional(),
  }),
  where: z.record(z.string(), z.unknown()).optional(),
  orderBy: z.array(orderTermSchema).optional(),
  limit: limitSchema.optional(),
  cursor: cursorSchema.optional(),
  select: selectSchema.optional(),
});

/**
 * Options of a collection listing (core form; the HTTP query string is parsed into it).
 *
 * @example
 * docListOptionsSchema.parse({ where: { n: { $gt: 1 } }, limit: 10 });
 */
export const docListOptionsSchema = docQuerySchema.omit({ from: true });

/**
 * Options of history and collection listings.
 *
 * @example
 * docPageOptionsSchema.parse({ limit: 20 });
 */
export const docPageOptionsSchema = z.strictObject({ cursor: cursorSchema.optional(), limit: limitSchema.optional() });

/**
 * Options of the change feed.
 *
 * @example
 * docChangesOptionsSchema.parse({ after: 120, collection: 'checks' });
 */
export const docChangesOptionsSchema = z.strictObject({
  after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  collection: z.string().optional(),
  parent: z.string().optional(),
  limit: limitSchema.optional(),
});
