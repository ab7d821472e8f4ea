import type { JsonValue } from '../kv/types.js';

/**
 * Applies an RFC 7396 JSON merge patch: objects merge member by member, `null` removes a
 * member, anything else (arrays included) replaces. Pure: neither argument is changed.
 *
 * @example
 * applyMergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }); // { a: 1, b: { d: 3, e: 4 } }
 */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: { [key: string]: JsonValue } =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setMember(result, key, applyMergePatch(Object.hasOwn(result, key) ? (result[key] as JsonValue) : null, value));
  }
  return result;
}

/**
 * Sets an own member, `__proto__` included (plain assignment of `__proto__` would change the
 * object's prototype instead of storing the member JSON.parse gave us).
 */
export function setMember(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
