/**
 * Input schemas for application tokens. The HTTP routes validate request bodies with these
 * same schemas (and build the OpenAPI document from them), so core and the wire agree.
 */
import { z } from 'zod';
import { storableText } from '../validation.js';
import { scopeProblem } from './scopes.js';
import { hasValidChecksum, TOKEN_PREFIX } from './token-format.js';

export const MAX_TOKEN_NAME_LENGTH = 100;
export const MAX_TOKEN_SCOPES = 50;
export const MIN_BOOTSTRAP_TOKEN_LENGTH = 32;
export const MAX_BOOTSTRAP_TOKEN_LENGTH = 512;

/** Visible ASCII without space: a bearer secret must survive an `Authorization` header unchanged. */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * One scope string (`*`, `kv:read`, `kv:write:pipelines/*`).
 *
 * @example
 * scopeSchema.safeParse('kv:write:pipelines/*').success; // true
 */
export const scopeSchema = z.string().superRefine((scope, ctx) => {
  const problem = scopeProblem(scope);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * `POST /api/application-tokens` body. The largest `expiresInDays` depends on configuration,
 * so the token service checks it.
 *
 * @example
 * parseInput(createTokenInputSchema, { name: 'ci', expiresInDays: 30, scopes: ['kv:read'] });
 */
export const createTokenInputSchema = z.strictObject({
  name: storableText(z.string().trim().min(1, 'name must not be empty').max(MAX_TOKEN_NAME_LENGTH)),
  expiresInDays: z.number().int().min(1),
  scopes: z.array(scopeSchema).min(1, 'at least one scope is required').max(MAX_TOKEN_SCOPES),
});

/**
 * `POST /api/application-tokens/{id}/rotate` body. The largest grace is configuration, checked
 * by the token service.
 *
 * @example
 * parseInput(rotateTokenInputSchema, { graceSeconds: 3600 });
 */
export const rotateTokenInputSchema = z.strictObject({
  graceSeconds: z.number().int().min(0).default(0),
});

/**
 * A bootstrap token (`PROSERVER_BOOTSTRAP_TOKEN`): any 32..512 visible ASCII characters, so an
 * operator may bring their own secret; one that looks like ours (`prs_`) must be a real one.
 *
 * @example
 * parseInput(bootstrapTokenSchema, process.env.PROSERVER_BOOTSTRAP_TOKEN, 'bootstrap token');
 */
export const bootstrapTokenSchema = z
  .string()
  .min(MIN_BOOTSTRAP_TOKEN_LENGTH)
  .max(MAX_BOOTSTRAP_TOKEN_LENGTH)
  .regex(PRINTABLE_ASCII, 'must be visible ASCII characters without spaces')
  .refine((value) => !value.startsWith(TOKEN_PREFIX) || hasValidChecksum(value), {
    message: `starts with ${TOKEN_PREFIX} but is not a valid token (bad checksum or length)`,
  });

/**
 * True when `secret` could be a bootstrap token (the format check done before any lookup).
 *
 * @example
 * isForeignFormatSecret('short'); // false: rejected without a database query
 */
export function isForeignFormatSecret(secret: string): boolean {
  return (
    secret.length >= MIN_BOOTSTRAP_TOKEN_LENGTH &&
    secret.length <= MAX_BOOTSTRAP_TOKEN_LENGTH &&
    PRINTABLE_ASCII.test(secret)
  );
}
