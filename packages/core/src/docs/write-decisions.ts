/**
 * How each kind of write decides, given the state the store found: preconditions first,
 * then the new data (patches applied to the current data). Thrown errors abort the commit.
 */
import { ProServerError } from '../errors.js';
import type { JsonValue } from '../kv/types.js';
import type { DocDecision, DocRecord } from '../storage/ports.js';
import { jsonByteLength } from '../validation.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import type { DocPatch, DocPrecondition, JsonObject } from './types.js';

/**
 * Checks `expect` against the current state; `PRECONDITION_FAILED` with
 * `details.currentRevision` (null when there is no document) otherwise.
 *
 * @example
 * checkPrecondition('a/b', { revision: 3 }, current);
 */
export function checkPrecondition(path: string, expect: DocPrecondition | undefined, current: DocRecord | null): void {
  if (!expect) return;
  const currentRevision = current?.revision ?? null;
  const fail = (message: string) =>
    new ProServerError('PRECONDITION_FAILED', `${path}: ${message}`, {
      details: { path, currentRevision, currentVersion: current?.version ?? null },
    });
  if (expect.exists === false && current) throw fail(`exists (at revision ${current.revision}); expected it not to`);
  const mustExist = expect.exists === true || expect.revision !== undefined || expect.version !== undefined;
  if (mustExist && !current) throw fail('does not exist');
  if (current && expect.revision !== undefined && current.revision !== expect.revision) {
    throw fail(`is at revision ${current.revision}, not ${expect.revision}`);
  }
  if (current && expect.version !== undefined && current.version !== expect.version) {
    throw fail(`is at version ${current.version}, not ${expect.version}`);
  }
}

/** Throws `PAYLOAD_TOO_LARGE` when the data's JSON text is over the limit. */
export function checkSize(data: JsonValue, maxBytes: number): void {
  const size = jsonByteLength(data);
  if (size > maxBytes) {
    throw new ProServerError('PAYLOAD_TOO_LARGE', `the document is ${size} bytes; the limit is ${maxBytes}`, {
      details: { size, maxDocumentBytes: maxBytes },
    });
  }
}

/** Create or replace. */
export function decideSet(path: string, data: JsonObject, expect: DocPrecondition | undefined) {
  return (current: DocRecord | null): DocDecision => {
    checkPrecondition(path, expect, current);
    return { kind: 'put', data };
  };
}

/** Patch an existing document; the result must still be a JSON object within the size limit. */
export function decidePatch(path: string, patch: DocPatch, expect: DocPrecondition | undefined, maxBytes: number) {
  return (current: DocRecord | null): DocDecision => {
    checkPrecondition(path, expect, current);
    if (!current) throw new ProServerError('NOT_FOUND', `document ${path} does not exist`);
    const result = Array.isArray(patch) ? applyJsonPatch(current.data, patch) : applyMergePatch(current.data, patch);
    if (typeof result !== 'object' || result === null || Array.isArray(result)) {
      throw new ProServerError('VALIDATION_FAILED', `the patch would make ${path} something other than a JSON object`, {
        errors: [{ path: 'data', message: 'the patched document must be a JSON object' }],
      });
    }
    checkSize(result, maxBytes);
    return { kind: 'put', data: result };
  };
}

/** Delete; with `missingIsError`, deleting nothing is `NOT_FOUND` (single deletes; a commit's delete of nothing is a no-op). */
export function decideDelete(path: string, expect: DocPrecondition | undefined, missingIsError: boolean) {
  return (current: DocRecord | null, descendants: number): DocDecision => {
    checkPrecondition(path, expect, current);
    if (!current && descendants === 0 && missingIsError) {
      throw new ProServerError('NOT_FOUND', `document ${path} does not exist`);
    }
    return { kind: 'delete' };
  };
}
