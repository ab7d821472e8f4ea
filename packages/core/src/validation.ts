import type { z } from 'zod';
import { ProServerError } from './errors.js';

/**
 * Validates `input` with a zod schema; a failure is a `VALIDATION_FAILED` ProServerError
 * listing every field problem (`errors: [{path, message}]`). Core and the HTTP routes use
 * the same schemas through this one function.
 *
 * @example
 * const body = parseInput(kvSetInputSchema, await request.json());
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const first = errors[0];
  const summary = first ? `${first.path || what}: ${first.message}` : 'invalid';
  throw new ProServerError('VALIDATION_FAILED', `${what} is not valid (${summary})`, { errors });
}

/** Size in bytes of a value's JSON text (UTF-8), as stored. */
export function jsonByteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, and a lone UTF-16 surrogate would not come
 * back as sent: text with either is refused (in values) or cannot name anything stored (ids),
 * so every backend stores exactly the same data and no such input reaches the database.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain U+0000 or unpaired surrogates';

/** Whether `text` holds U+0000 or an unpaired surrogate (see UNSTORABLE_TEXT_MESSAGE). */
export function isUnstorableText(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

/**
 * A string schema that also refuses unstorable text.
 *
 * @example
 * const nameSchema = storableText(z.string().min(1).max(128));
 */
export function storableText<S extends z.ZodString>(schema: S) {
  return schema.refine((text) => !isUnstorableText(text), UNSTORABLE_TEXT_MESSAGE);
}
