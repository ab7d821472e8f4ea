import { ProServerError } from '@proserver/core';

/** A parsed `If-Match` / `If-None-Match`: any current version, or one exact version. */
export type EntityTagCondition = { kind: 'any' } | { kind: 'version'; version: number };

const VERSION_TAG = /^(?:W\/)?"([1-9][0-9]{0,14})"$/;

/**
 * Parses a conditional header: `*`, `"3"` or `W/"3"` (our ETags are versions). Absent is
 * undefined; anything else (lists included) is a 400, never silently ignored.
 *
 * @example
 * parseEntityTag('W/"3"', 'If-Match'); // { kind: 'version', version: 3 }
 */
export function parseEntityTag(header: string | undefined, name: string): EntityTagCondition | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return { kind: 'any' };
  const version = VERSION_TAG.exec(value)?.[1];
  if (version === undefined) {
    throw new ProServerError('VALIDATION_FAILED', `${name} must be *, "<version>" or W/"<version>"`, {
      errors: [{ path: name, message: 'must be *, "<version>" or W/"<version>"' }],
    });
  }
  return { kind: 'version', version: Number(version) };
}

/**
 * The ETag of an entry version.
 *
 * @example
 * c.header('ETag', entityTag(entry.version)); // "3"
 */
export function entityTag(version: number): string {
  return `"${version}"`;
}
