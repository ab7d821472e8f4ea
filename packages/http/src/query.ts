import { ProServerError, parseInput } from '@proserver/core';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from './env.js';

/**
 * `?cursor=&limit=` of the plain paginated lists (limit 1 to 1000, as SPEC §1).
 *
 * @example
 * const page = readQuery(c, pageQuerySchema);
 */
export const pageQuerySchema = z.strictObject({
  cursor: z.string().min(1).max(2048).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
});

/**
 * Validates the query string with a schema. Each parameter may appear once (a repeated one
 * is a 400, not a silent pick); unknown ones are refused by the (strict) schemas.
 *
 * @example
 * const { prefix, limit } = readQuery(c, kvListOptionsSchema);
 */
export function readQuery<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const values: Record<string, string> = {};
  for (const [name, list] of Object.entries(c.req.queries())) {
    if (list.length > 1) {
      throw new ProServerError('VALIDATION_FAILED', `query parameter ${name} is given more than once`, {
        errors: [{ path: name, message: 'given more than once' }],
      });
    }
    values[name] = list[0] ?? '';
  }
  return parseInput(schema, values, 'query string');
}
