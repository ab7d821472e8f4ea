import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

/** What a client-sent request id may look like: short and safe to log and echo. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id and every response (errors and 404s included) an `X-Request-Id`
 * header: the client's own when it is at most 128 characters of `A-Za-z0-9._:-`, otherwise a
 * new UUID, so a log line can never be forged through this header.
 *
 * @example
 * app.use('*', requestId());
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sent = c.req.header('x-request-id');
    const id = sent !== undefined && SANE_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
    c.set('requestId', id);
    c.set('credentialsPresented', false);
    c.header('X-Request-Id', id);
    await next();
    // Set again on the final response: a handler may have replaced it with a fresh Response.
    c.res.headers.set('X-Request-Id', id);
  };
}
