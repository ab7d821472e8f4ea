import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Core, ProServerError } from '@proserver/core';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

export interface AuthOptions {
  /** Take the client IP from `X-Forwarded-For` (only behind a proxy you run). */
  trustProxy: boolean;
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Requires `Authorization: Bearer <token>` and sets the typed `principal` variable. Core
 * decides whether the token is valid (`UNAUTHENTICATED` / `TOKEN_EXPIRED`, both 401); the
 * client IP is passed along so core can record where a token was last used.
 *
 * @example
 * api.use('*', requireAuth(core, { trustProxy: false }));
 * api.get('/me', (c) => c.json(c.get('principal')));
 */
export function requireAuth(core: Core, options: AuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined || header.trim() === '') {
      throw new ProServerError('UNAUTHENTICATED', 'missing "Authorization: Bearer <token>" header');
    }
    c.set('credentialsPresented', true);
    const secret = BEARER.exec(header)?.[1];
    if (secret === undefined) {
      throw new ProServerError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
    }
    const principal = await core.auth.authenticate(secret, { ip: clientIp(c, options.trustProxy) });
    c.set('principal', principal);
    await next();
  };
}

/**
 * The caller's IP address. Behind a trusted proxy, the last `X-Forwarded-For` entry: the one
 * the proxy itself appended (earlier entries are whatever the client chose to send). Else
 * the socket's peer address, when the app runs on @hono/node-server (in-process requests
 * have none).
 */
export function clientIp(c: Context<AppEnv>, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').at(-1)?.trim();
    if (last && isIP(last)) return unmapIpv4(last);
  }
  try {
    const address = getConnInfo(c).remote.address;
    return address && isIP(address) ? unmapIpv4(address) : null;
  } catch {
    return null;
  }
}

/** `::ffff:10.0.0.7` (an IPv4 peer on a dual-stack socket) is reported as `10.0.0.7`. */
function unmapIpv4(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped ?? address;
}
