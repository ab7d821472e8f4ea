/**
 * Field references of filters, orders and projections. A field is a dotted path into the
 * document's data (`status`, `build.number`, `tags.0`), or one of the metadata fields `id`,
 * `path`, `createdAt`, `updatedAt`. `data.<field>` always means the data member, so a data
 * member called `id` is reachable as `data.id`.
 */
import { ProServerError } from '../errors.js';
import { isUnstorableText, UNSTORABLE_TEXT_MESSAGE } from '../validation.js';

export const META_FIELDS = ['id', 'path', 'createdAt', 'updatedAt'] as const;
export type MetaField = (typeof META_FIELDS)[number];

/** A resolved field: a metadata column or a path into `data`. */
export type FieldRef = { kind: 'meta'; name: MetaField } | { kind: 'data'; segments: string[] };

/** Longest field reference, in characters. */
export const MAX_FIELD_LENGTH = 1024;
/** Most segments in a data field path. */
export const MAX_FIELD_SEGMENTS = 32;

const META_SET: ReadonlySet<string> = new Set(META_FIELDS);

/**
 * Resolves a field reference; `VALIDATION_FAILED` (naming `at`) when it is not one.
 *
 * @example
 * parseField('build.number', 'where'); // { kind: 'data', segments: ['build', 'number'] }
 * parseField('updatedAt', 'orderBy.0'); // { kind: 'meta', name: 'updatedAt' }
 */
export function parseField(field: unknown, at: string): FieldRef {
  const fail = (message: string) =>
    new ProServerError('VALIDATION_FAILED', `field ${JSON.stringify(String(field).slice(0, 80))}: ${message}`, {
      errors: [{ path: at, message }],
    });
  if (typeof field !== 'string' || field.length === 0) throw fail('a field is a non-empty string');
  if (field.length > MAX_FIELD_LENGTH) throw fail(`longer than ${MAX_FIELD_LENGTH} characters`);
  if (META_SET.has(field)) return { kind: 'meta', name: field as MetaField };
  const dotted = field.startsWith('data.') ? field.slice('data.'.length) : field;
  const segments = dotted.split('.');
  if (segments.length > MAX_FIELD_SEGMENTS) throw fail(`more than ${MAX_FIELD_SEGMENTS} segments`);
  if (segments.some((segment) => segment === '')) throw fail('empty segment (two dots, or a leading/trailing dot)');
  // PostgreSQL text cannot hold U+0000: such a field could never match anything stored.
  if (isUnstorableText(field)) throw fail(UNSTORABLE_TEXT_MESSAGE);
  return { kind: 'data', segments };
}

/** The canonical text of a field (for cursors and messages). */
export function fieldKey(ref: FieldRef): string {
  return ref.kind === 'meta' ? ref.name : `data.${ref.segments.join('.')}`;
}
