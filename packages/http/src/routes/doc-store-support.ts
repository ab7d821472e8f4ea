/**
 * Helpers of the document-store routes: paths from the raw URL, conditional headers turned
 * into core preconditions, the list query string, and problem responses that carry the
 * current revision (412) or the failing write's index (409) as RFC 9457 extension members.
 */
import {
  type DocListOptions,
  type DocPrecondition,
  isProServerError,
  ProServerError,
  parseOrderParameter,
} from '@proserver/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { parseJson } from '../body.js';
import type { AppEnv } from '../env.js';
import { parseEntityTag } from '../preconditions.js';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../problem.js';

/**
 * The path after `prefix`, each segment percent-decoded on its own (so `%2F` cannot make a
 * separator). Core checks the segments.
 *
 * @example
 * docPathAfter(c, '/api/doc-store/docs/'); // 'projects/acme'
 */
export function docPathAfter(c: Context<AppEnv>, prefix: string): string {
  const pathname = new URL(c.req.url).pathname;
  if (!pathname.startsWith(prefix)) throw new ProServerError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
  return pathname
    .slice(prefix.length)
    .split('/')
    .map((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw badPath('bad percent-encoding');
      }
      if (decoded.includes('/')) throw badPath('a segment must not contain "/" (%2F)');
      return decoded;
    })
    .join('/');
}

function badPath(message: string): ProServerError {
  return new ProServerError('VALIDATION_FAILED', `the path is not valid: ${message}`, {
    errors: [{ path: 'path', message }],
  });
}

/** The number of segments of a (decoded) path. */
export function segmentCount(path: string): number {
  return path.split('/').length;
}

/**
 * `If-Match` / `If-None-Match` of a write as a precondition. `If-Match: "<rev>"` → that
 * revision, `*` → must exist; `If-None-Match: *` → must not exist. Both at once, or
 * `If-None-Match` with a tag, are refused (400).
 *
 * @example
 * writePrecondition(c); // { revision: 42 }
 */
export function writePrecondition(c: Context<AppEnv>, expectedVersion?: number): DocPrecondition | undefined {
  const ifMatch = parseEntityTag(c.req.header('if-match'), 'If-Match');
  const ifNoneMatch = parseEntityTag(c.req.header('if-none-match'), 'If-None-Match');
  if (ifNoneMatch && ifNoneMatch.kind !== 'any') {
    throw badHeader('If-None-Match', 'on writes If-None-Match must be * (create only)');
  }
  if (ifMatch && ifNoneMatch) throw badHeader('If-Match', 'conflicting preconditions: If-Match with If-None-Match');
  const expect: DocPrecondition = {};
  if (ifMatch) {
    if (ifMatch.kind === 'any') expect.exists = true;
    else expect.revision = ifMatch.version;
  }
  if (ifNoneMatch) expect.exists = false;
  if (expectedVersion !== undefined) expect.version = expectedVersion;
  return Object.keys(expect).length === 0 ? undefined : expect;
}

function badHeader(name: string, message: string): ProServerError {
  return new ProServerError('VALIDATION_FAILED', message, { errors: [{ path: name, message }] });
}

/** `?where=&orderBy=&limit=&cursor=&select=` of a collection listing. */
export const listQuerySchema = z.strictObject({
  where: z
    .string()
    .max(64 * 1024)
    .optional(),
  orderBy: z.string().min(1).max(4096).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
  cursor: z.string().min(1).max(4096).optional(),
  select: z.string().min(1).max(8192).optional(),
});

/** The listing options from the parsed query string (`where` is JSON, the lists comma-separated). */
export function listOptionsFrom(query: z.output<typeof listQuerySchema>): DocListOptions {
  return {
    ...(query.where === undefined
      ? {}
      : { where: parseJson(query.where, 'the where parameter') as DocListOptions['where'] }),
    ...(query.orderBy === undefined ? {} : { orderBy: parseOrderParameter(query.orderBy) }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    ...(query.select === undefined ? {} : { select: query.select.split(',').map((field) => field.trim()) }),
  };
}

/** Extension members a document-store problem carries, taken from the error's details. */
const EXTENSIONS = ['currentRevision', 'index', 'reason'] as const;

/**
 * Runs a handler; a `PRECONDITION_FAILED` or `CONFLICT` from core is answered here with its
 * extension members (and the current revision as `ETag`), anything else goes to the app's
 * error handler.
 *
 * @example
 * return withDocProblems(c, () => putDocument(c));
 */
export async function withDocProblems(c: Context<AppEnv>, handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (error) {
    if (!isProServerError(error) || (error.code !== 'PRECONDITION_FAILED' && error.code !== 'CONFLICT')) throw error;
    const body: Record<string, unknown> = {
      ...problemBody(error.code, error.message, c.get('requestId'), error.errors),
    };
    for (const name of EXTENSIONS) if (error.details?.[name] !== undefined) body[name] = error.details[name];
    const headers: Record<string, string> = { 'Content-Type': PROBLEM_CONTENT_TYPE };
    if (typeof error.details?.currentRevision === 'number') headers.ETag = `"${error.details.currentRevision}"`;
    return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, headers);
  }
}
