/**
 * RFC 9457 problem responses: the one way an error leaves the HTTP layer. A ProServerError
 * keeps its code and message; anything else is a 500 `INTERNAL` whose body says nothing about
 * the cause (the cause is logged with the request id, so an operator can find it).
 */
import { type ErrorCode, type FieldError, isProServerError, type Logger, ProServerError } from '@proserver/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './env.js';
import { ERROR_STATUS, ERROR_TITLE } from './error-status.js';

/** The content type of every error response (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The body of every error response.
 *
 * @example
 * { type: 'urn:proserver:error:FORBIDDEN', title: 'Forbidden', status: 403,
 *   detail: 'needs scope kv:write:a/b', code: 'FORBIDDEN', requestId: '…' }
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

/**
 * Builds a problem body for a code.
 *
 * @example
 * problemBody('NOT_FOUND', 'no route GET /api/nope', 'req-1');
 * // { type: 'urn:proserver:error:NOT_FOUND', title: 'Not found', status: 404, … }
 */
export function problemBody(code: ErrorCode, detail: string, requestId: string, errors?: FieldError[]): ProblemBody {
  return {
    type: `urn:proserver:error:${code}`,
    title: ERROR_TITLE[code],
    status: ERROR_STATUS[code],
    detail,
    code,
    requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

const INTERNAL_DETAIL = 'an internal error occurred; quote the request id when reporting it';

/**
 * The response for any thrown value. Headers that belong to a code are added here: `Allow`
 * on 405 (from `details.allow`), `WWW-Authenticate` on 401 (RFC 6750: the error attribute only
 * when credentials were sent).
 *
 * @example
 * app.onError((error, c) => problemResponse(c, error, logger));
 */
export function problemResponse(c: Context<AppEnv>, error: unknown, logger: Logger): Response {
  const requestId = c.get('requestId') ?? 'unknown';
  let body: ProblemBody;
  if (isProServerError(error) && error.code !== 'INTERNAL') {
    body = problemBody(error.code, error.message, requestId, error.errors);
  } else {
    logger.error('request failed', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    body = problemBody('INTERNAL', INTERNAL_DETAIL, requestId);
  }

  const headers: Record<string, string> = { 'Content-Type': PROBLEM_CONTENT_TYPE };
  if (body.status === 401) {
    headers['WWW-Authenticate'] = c.get('credentialsPresented')
      ? 'Bearer realm="proserver", error="invalid_token"'
      : 'Bearer realm="proserver"';
  }
  const allow = isProServerError(error) ? error.details?.allow : undefined;
  if (body.status === 405 && typeof allow === 'string') headers.Allow = allow;
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, headers);
}

/**
 * A handler for the methods a path does not support: 405 with the `Allow` header.
 *
 * @example
 * routes.all('/', methodNotAllowed(['GET', 'HEAD', 'POST']));
 */
export function methodNotAllowed(allowed: readonly string[]): (c: Context<AppEnv>) => never {
  return (c) => {
    throw methodNotAllowedError(c.req.method, allowed);
  };
}

/** The 405 error for `method` on a path that allows `allowed`. */
export function methodNotAllowedError(method: string, allowed: readonly string[]): ProServerError {
  const allow = allowed.join(', ');
  return new ProServerError('METHOD_NOT_ALLOWED', `${method} is not allowed here (allowed: ${allow})`, {
    details: { allow },
  });
}
