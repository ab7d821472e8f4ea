/**
 * RFC 6902 JSON patch on a document's data, with RFC 6901 pointers. Operations apply in
 * order to a copy; the first one that cannot apply stops everything (the document is not
 * written). A failing `test` is a `PRECONDITION_FAILED` (field-level precondition); any other
 * inapplicable operation (missing member, index out of range) is a `CONFLICT`.
 */
import { ProServerError } from '../errors.js';
import type { JsonValue } from '../kv/types.js';
import { jsonEqual } from './json-semantics.js';
import { setMember } from './merge-patch.js';
import type { JsonPatchOperation } from './types.js';

type Container = JsonValue[] | { [key: string]: JsonValue };

/**
 * Applies the operations to a deep copy of `document` and answers the result.
 *
 * @example
 * applyJsonPatch({ n: 1 }, [{ op: 'test', path: '/n', value: 1 }, { op: 'replace', path: '/n', value: 2 }]); // { n: 2 }
 */
export function applyJsonPatch(document: JsonValue, operations: readonly JsonPatchOperation[]): JsonValue {
  let root = structuredClone(document);
  operations.forEach((operation, index) => {
    const at = `operation ${index} (${operation.op} ${operation.path})`;
    switch (operation.op) {
      case 'test': {
        const current = get(root, parsePointer(operation.path, at), at);
        if (current === undefined || !jsonEqual(current, operation.value)) {
          throw new ProServerError('PRECONDITION_FAILED', `JSON patch ${at}: the value differs`, {
            details: { index },
          });
        }
        return;
      }
      case 'add':
        root = add(root, parsePointer(operation.path, at), structuredClone(operation.value), at);
        return;
      case 'replace': {
        const tokens = parsePointer(operation.path, at);
        const value = structuredClone(operation.value);
        root = tokens.length === 0 ? value : add(remove(root, tokens, at), tokens, value, at);
        return;
      }
      case 'remove':
        root = remove(root, parsePointer(operation.path, at), at);
        return;
      case 'copy':
      case 'move': {
        const from = parsePointer(operation.from, at);
        const to = parsePointer(operation.path, at);
        const value = get(root, from, at);
        if (value === undefined) throw conflict(at, `"from" ${operation.from} does not exist`);
        if (operation.op === 'move') {
          if (operation.path.startsWith(`${operation.from}/`)) throw conflict(at, 'cannot move a value into itself');
          root = remove(root, from, at);
        }
        root = add(root, to, structuredClone(value), at);
        return;
      }
    }
  });
  return root;
}

/** Parses an RFC 6901 pointer (`/a/b~1c/0`) into reference tokens. */
function parsePointer(pointer: string, at: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw conflict(at, 'a JSON pointer is empty or starts with "/"', 'VALIDATION_FAILED');
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(root: JsonValue, tokens: readonly string[], at: string): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const token of tokens) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length - 1, at)];
    else if (typeof current === 'object' && current !== null)
      current = Object.hasOwn(current, token) ? current[token] : undefined;
    else return undefined;
  }
  return current;
}

/** The container holding the last token (it must exist). */
function parentOf(root: JsonValue, tokens: readonly string[], at: string): Container {
  const parent = get(root, tokens.slice(0, -1), at);
  if (typeof parent !== 'object' || parent === null) throw conflict(at, 'the parent of the target does not exist');
  return parent;
}

function add(root: JsonValue, tokens: readonly string[], value: JsonValue, at: string): JsonValue {
  if (tokens.length === 0) return value;
  const parent = parentOf(root, tokens, at);
  const last = tokens.at(-1) as string;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : arrayIndex(last, parent.length, at);
    parent.splice(index, 0, value);
  } else {
    setMember(parent, last, value);
  }
  return root;
}

function remove(root: JsonValue, tokens: readonly string[], at: string): JsonValue {
  if (tokens.length === 0) throw conflict(at, 'cannot remove the whole document');
  const parent = parentOf(root, tokens, at);
  const last = tokens.at(-1) as string;
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length - 1, at), 1);
  } else {
    if (!Object.hasOwn(parent, last)) throw conflict(at, `member ${JSON.stringify(last)} does not exist`);
    delete parent[last];
  }
  return root;
}

/** An array index token: digits without leading zeros, at most `max`. */
function arrayIndex(token: string, max: number, at: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw conflict(at, `${JSON.stringify(token)} is not an array index`);
  const index = Number(token);
  if (index > max) throw conflict(at, `index ${index} is out of range`);
  return index;
}

function conflict(at: string, message: string, code: 'CONFLICT' | 'VALIDATION_FAILED' = 'CONFLICT'): ProServerError {
  return new ProServerError(code, `JSON patch ${at}: ${message}`);
}
