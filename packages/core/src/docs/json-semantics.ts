/**
 * The JSON semantics the memory adapter shares with PostgreSQL's jsonb, written down once so
 * both backends answer every query identically:
 * - field access is jsonb's `#>` (objects by key; arrays by an integer segment, negative
 *   counting from the end, exactly as PostgreSQL parses it with strtol);
 * - equality is jsonb equality (numbers numerically, objects regardless of key order);
 * - text compares by Unicode code point, which is PostgreSQL's `COLLATE "C"` on UTF-8.
 */
import type { JsonValue } from '../kv/types.js';

/** What PostgreSQL's strtol accepts as an array index in `#>`: optional spaces, sign, digits. */
const PG_ARRAY_INDEX = /^[ \t\n\v\f\r]*[+-]?[0-9]+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * True when `segment` would index an array in jsonb `#>` (the memory adapter and the SQL
 * compiler both use it: such a segment cannot be answered with `@>` containment).
 *
 * @example
 * isArrayIndexSegment('-1'); // true
 */
export function isArrayIndexSegment(segment: string): boolean {
  if (!PG_ARRAY_INDEX.test(segment)) return false;
  const value = Number(segment.trim());
  return value >= INT32_MIN && value <= INT32_MAX;
}

/**
 * The value at a field path, like jsonb `data #> '{a,b}'`; undefined when missing.
 *
 * @example
 * fieldValue({ a: { b: [1, 2] } }, ['a', 'b', '-1']); // 2
 */
export function fieldValue(data: JsonValue, segments: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = data;
  for (const segment of segments) {
    if (current === null || current === undefined || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!isArrayIndexSegment(segment)) return undefined;
      let index = Number(segment.trim());
      if (index < 0) index += current.length;
      current = index >= 0 && index < current.length ? current[index] : undefined;
    } else {
      current = Object.hasOwn(current, segment) ? current[segment] : undefined;
    }
  }
  return current;
}

/** The JSON type name, as jsonb_typeof answers it. */
export function jsonType(value: JsonValue): 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'boolean' | 'number' | 'string' | 'object';
}

/**
 * jsonb equality.
 *
 * @example
 * jsonEqual({ a: 1, b: [true] }, { b: [true], a: 1.0 }); // true
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index] as JsonValue));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key] as JsonValue, b[key] as JsonValue));
}

/**
 * Compares two strings by Unicode code point (UTF-8 byte order, PostgreSQL `COLLATE "C"`).
 * JavaScript's `<` compares UTF-16 code units, which orders U+E000–U+FFFF after astral
 * characters: wrong for the database, so not used.
 *
 * @example
 * compareCodePoints('\u{1F600}', '\uFFFD'); // 1
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only surrogates (0xD800–0xDFFF) are out of code point order: lift them above the BMP.
    const rank = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x10000 : c);
    return rank(x) < rank(y) ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
