/**
 * Document paths (SPEC §5): segments alternate collection id and document id, so a document
 * path has an even number of segments (`projects/acme`) and a collection path an odd one
 * (`projects/acme/releases`). Every path the store sees went through these functions.
 */
import { ProServerError } from '../errors.js';

/** One segment: 1 to 128 of `A-Z a-z 0-9 _ . ~ -`, and not `.` or `..`. */
export const DOC_SEGMENT_PATTERN = /^[A-Za-z0-9_.~-]{1,128}$/;
/** At most this many segments (8 levels of collection + document). */
export const MAX_DOC_PATH_DEPTH = 16;

/**
 * A parsed document path.
 *
 * @example
 * parseDocPath('projects/acme/releases/r42');
 * // { path: 'projects/acme/releases/r42', parentPath: 'projects/acme', collection: 'releases', id: 'r42', depth: 4 }
 */
export interface DocPathParts {
  path: string;
  /** The document that holds the collection; `''` for a root collection. */
  parentPath: string;
  collection: string;
  id: string;
  /** Number of segments. */
  depth: number;
}

function invalid(what: string, field: string, message: string): ProServerError {
  return new ProServerError('VALIDATION_FAILED', `${what} is not valid: ${message}`, {
    errors: [{ path: field, message }],
  });
}

/** The segments of `path`, each checked; `VALIDATION_FAILED` naming `field` otherwise. */
export function splitPath(path: unknown, field = 'path', what = 'the path'): string[] {
  if (typeof path !== 'string' || path.length === 0) throw invalid(what, field, 'must be a non-empty string');
  const segments = path.split('/');
  if (segments.length > MAX_DOC_PATH_DEPTH) {
    throw invalid(what, field, `has ${segments.length} segments; at most ${MAX_DOC_PATH_DEPTH} are allowed`);
  }
  segments.forEach((segment, index) => {
    if (segment === '') throw invalid(what, field, `segment ${index + 1} is empty`);
    if (segment === '.' || segment === '..') throw invalid(what, field, `segment ${index + 1} is "${segment}"`);
    if (!DOC_SEGMENT_PATTERN.test(segment)) {
      throw invalid(what, field, `segment ${index + 1} must be 1 to 128 characters of A-Z a-z 0-9 _ . ~ -`);
    }
  });
  return segments;
}

/**
 * Parses a document path (even number of segments).
 *
 * @example
 * parseDocPath('projects/acme').collection; // 'projects'
 */
export function parseDocPath(path: unknown, field = 'path'): DocPathParts {
  const segments = splitPath(path, field, 'the document path');
  if (segments.length % 2 !== 0) {
    throw invalid(
      'the document path',
      field,
      `has ${segments.length} segments: a document path alternates collection/document and has an even number`,
    );
  }
  return partsOf(segments);
}

/**
 * Parses a collection path (odd number of segments); answers the parent document path
 * (`''` at the root) and the collection id.
 *
 * @example
 * parseCollectionPath('projects/acme/releases'); // { path, parentPath: 'projects/acme', collection: 'releases' }
 */
export function parseCollectionPath(
  path: unknown,
  field = 'path',
): { path: string; parentPath: string; collection: string } {
  const segments = splitPath(path, field, 'the collection path');
  if (segments.length % 2 !== 1) {
    throw invalid(
      'the collection path',
      field,
      `has ${segments.length} segments: a collection path has an odd number (collection/document/…/collection)`,
    );
  }
  const collection = segments.at(-1) as string;
  return { path: segments.join('/'), parentPath: segments.slice(0, -1).join('/'), collection };
}

/** Checks a single collection id (one segment). */
export function parseCollectionId(id: unknown, field = 'collection'): string {
  const segments = splitPath(id, field, 'the collection id');
  if (segments.length !== 1) throw invalid('the collection id', field, 'must be one segment (no "/")');
  return segments[0] as string;
}

/** The parts of a document path given as checked segments. */
export function partsOf(segments: readonly string[]): DocPathParts {
  return {
    path: segments.join('/'),
    parentPath: segments.slice(0, -2).join('/'),
    collection: segments.at(-2) as string,
    id: segments.at(-1) as string,
    depth: segments.length,
  };
}

/**
 * The smallest string above every string that starts with `prefix`. Paths are ASCII below
 * `~` (0x7E), so bumping the last character never overflows.
 *
 * @example
 * prefixEnd('projects/acme/'); // 'projects/acme0'
 */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
