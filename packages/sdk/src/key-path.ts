import { ApiError } from './errors.js';

/**
 * The URL path of a key: each `/`-separated segment percent-encoded on its own, so the
 * hierarchy stays readable in logs while `:` and `@` travel safely.
 *
 * A segment that is exactly `.` or `..` cannot be sent: every URL parser (the fetch in Node
 * and in browsers included) resolves it, even percent-encoded, and the request would reach
 * another key. Such keys are refused here rather than silently read or overwrite the wrong
 * entry; list and export still return them.
 *
 * @example
 * encodeKeyPath('pipelines/main@v2/status'); // 'pipelines/main%40v2/status'
 */
export function encodeKeyPath(key: string): string {
  const segments = key.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new ApiError({
      status: 0,
      code: 'VALIDATION_FAILED',
      detail: `key ${JSON.stringify(key)} has a "." or ".." segment, which URLs cannot carry`,
      errors: [{ path: 'key', message: 'a segment may not be "." or ".." in a URL path' }],
    });
  }
  return segments.map(encodeURIComponent).join('/');
}
