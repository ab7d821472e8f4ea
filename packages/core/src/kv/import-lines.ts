import { type FieldError, ProServerError } from '../errors.js';
import type { KvWrite } from '../storage/ports.js';
import { jsonByteLength } from '../validation.js';
import { kvImportLineSchema, MAX_KV_IMPORT_LINES } from './validation.js';

/** A bad import reports at most this many problems: enough to fix a file, small enough to read. */
const MAX_REPORTED_ERRORS = 100;

/**
 * Checks every line of an import before anything is written. Problems are reported with the
 * line's 0-based index as the first path segment (`3.key`); an oversized value is a field
 * error (`3.value`) like any other, so one answer lists every bad line. Lines whose
 * `expiresAt` has passed are counted in `skipped` and not written.
 *
 * @example
 * const { writes, skipped } = validateImportLines([{ key: 'a', value: 1 }], new Date(), 262_144);
 */
export function validateImportLines(
  lines: unknown,
  now: Date,
  maxValueBytes: number,
): { writes: KvWrite[]; skipped: number } {
  if (!Array.isArray(lines)) throw invalid([{ path: '', message: 'must be a list of lines' }]);
  if (lines.length > MAX_KV_IMPORT_LINES) {
    throw invalid([{ path: '', message: `at most ${MAX_KV_IMPORT_LINES} lines per import, got ${lines.length}` }]);
  }

  const errors: FieldError[] = [];
  const firstLineOfKey = new Map<string, number>();
  const writes: KvWrite[] = [];
  let skipped = 0;

  lines.forEach((line, index) => {
    const result = kvImportLineSchema.safeParse(line);
    if (!result.success) {
      for (const issue of result.error.issues) {
        errors.push({ path: [index, ...issue.path].map(String).join('.'), message: issue.message });
      }
      return;
    }
    const { key, value, tags, expiresAt } = result.data;
    const earlier = firstLineOfKey.get(key);
    if (earlier !== undefined) {
      errors.push({ path: `${index}.key`, message: `duplicate of line ${earlier}` });
      return;
    }
    firstLineOfKey.set(key, index);
    const size = jsonByteLength(value);
    if (size > maxValueBytes) {
      errors.push({ path: `${index}.value`, message: `value is ${size} bytes; the limit is ${maxValueBytes}` });
      return;
    }
    const expiry = expiresAt ? new Date(expiresAt) : null;
    if (expiry && expiry.getTime() <= now.getTime()) {
      skipped++;
      return;
    }
    writes.push({ key, value, tags: tags ?? [], expiresAt: expiry });
  });

  if (errors.length > 0) throw invalid(errors);
  return { writes, skipped };
}

function invalid(errors: FieldError[]): ProServerError {
  const first = errors[0];
  const summary = first ? `${first.path || 'import'}: ${first.message}` : 'invalid';
  const more = errors.length > 1 ? ` and ${errors.length - 1} more` : '';
  return new ProServerError('VALIDATION_FAILED', `import is not valid (${summary}${more}); nothing was written`, {
    errors: errors.slice(0, MAX_REPORTED_ERRORS),
  });
}
