import { kvKeySchema, ProServerError } from '@proserver/core';
import type { Context } from 'hono';
import type { AppEnv } from '../env.js';

/**
 * The part of the raw (still percent-encoded) URL path after `prefix`. Keys contain `/`, so
 * they are taken from the raw path rather than a router parameter: the router has already
 * decoded `%2F`, and a key's own structure must survive.
 *
 * @example
 * rawPathAfter(c, '/api/key-value/'); // 'pipelines/main%2Fx/increment'
 */
export function rawPathAfter(c: Context<AppEnv>, prefix: string): string {
  const pathname = new URL(c.req.url).pathname;
  if (!pathname.startsWith(prefix)) {
    throw new ProServerError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
  }
  return pathname.slice(prefix.length);
}

/**
 * Percent-decodes a key from the path and checks it against the key rules: 400 for bad
 * encoding or a key that could never exist.
 *
 * @example
 * decodeKey('pipelines%2Fmain'); // 'pipelines/main'
 */
export function decodeKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new ProServerError('VALIDATION_FAILED', 'the key in the path has bad percent-encoding', {
      errors: [{ path: 'key', message: 'bad percent-encoding' }],
    });
  }
  const result = kvKeySchema.safeParse(key);
  if (!result.success) {
    const message = result.error.issues[0]?.message ?? 'invalid key';
    throw new ProServerError('VALIDATION_FAILED', `the key in the path is not valid: ${message}`, {
      errors: [{ path: 'key', message }],
    });
  }
  return key;
}

/**
 * The path of a key below the key-value route, each segment percent-encoded.
 *
 * @example
 * encodeKeyPath('a b/c'); // 'a%20b/c'
 */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
