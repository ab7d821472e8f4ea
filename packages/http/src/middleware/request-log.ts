import type { Logger } from '@proserver/core';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

/**
 * Logs one line per request when it is answered: method, path, status, duration and request
 * id. Never headers or bodies, so no secret can reach the log through it.
 *
 * @example
 * app.use('*', requestLog(logger));
 */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    logger.info('request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    });
  };
}
