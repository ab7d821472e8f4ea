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
