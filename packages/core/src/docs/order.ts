/**
 * Ordering and keyset cursors. An order term on a data field sorts by JSON type first, then
 * within the type (missing < null < false < true < numbers < strings < arrays = objects):
 * the term expands to three sort keys (type rank, number, text) that are never NULL, so the
 * SQL compiler and the memory adapter order identically and a cursor is a plain tuple.
 * `path` always ends the order (unique, so pages never overlap or skip); unless given
 * explicitly it follows the direction of the last term, so that one index can serve
 * `updatedAt desc, path desc`.
 */
import { createHash } from 'node:crypto';
import { ProServerError } from '../errors.js';
import type { JsonValue } from '../kv/types.js';
import { decodeCursor, encodeCursor } from '../pagination.js';
import { type FieldRef, fieldKey, parseField } from './fields.js';
import { compareCodePoints, fieldValue, jsonType } from './json-semantics.js';
import type { DocOrderTerm } from './types.js';

export interface ResolvedOrderTerm {
  field: FieldRef;
  direction: 'asc' | 'desc';
}

/** One slot of the flattened sort key: how it compares. */
export type SortSlotKind = 'rank' | 'number' | 'text' | 'time';
/** A sort-key value: numbers for rank/number/time (epoch ms), strings for text. */
export type SortValue = number | string;

/** Most explicit order terms. */
export const MAX_ORDER_TERMS = 8;

const TYPE_RANK: Record<ReturnType<typeof jsonType>, number> = {
  null: 1,
  boolean: 2,
  number: 3,
  string: 4,
  array: 5,
  object: 6,
};

/**
 * Resolves the order of a query; `path` is appended as the final tie-breaker.
 *
 * @example
 * resolveOrder([{ field: 'updatedAt', direction: 'desc' }]); // [updatedAt desc, path desc]
 */
export function resolveOrder(terms: readonly DocOrderTerm[] | undefined, at = 'orderBy'): ResolvedOrderTerm[] {
  const list = terms ?? [];
  if (list.length > MAX_ORDER_TERMS) {
    throw new ProServerError('VALIDATION_FAILED', `at most ${MAX_ORDER_TERMS} order terms`, {
      errors: [{ path: at, message: `at most ${MAX_ORDER_TERMS} terms` }],
    });
  }
  const resolved: ResolvedOrderTerm[] = [];
  const seen = new Set<string>();
  list.forEach((term, index) => {
    const field = parseField(term.field, `${at}.${index}.field`);
    const key = fieldKey(field);
    const problem = seen.has(key)
      ? `${key} is ordered on twice`
      : resolved.at(-1)?.field.kind === 'meta' && fieldKey(resolved.at(-1)!.field) === 'path'
        ? 'nothing can follow path (it is unique)'
        : null;
    if (problem) {
      throw new ProServerError('VALIDATION_FAILED', `orderBy is not valid: ${problem}`, {
        errors: [{ path: `${at}.${index}`, message: problem }],
      });
    }
    seen.add(key);
    resolved.push({ field, direction: term.direction });
  });
  if (!seen.has('path')) {
    resolved.push({ field: { kind: 'meta', name: 'path' }, direction: resolved.at(-1)?.direction ?? 'asc' });
  }
  return resolved;
}

/**
 * Parses `?orderBy=-updatedAt,path` (a leading `-` means descending).
 *
 * @example
 * parseOrderParameter('-n,path'); // [{ field: 'n', direction: 'desc' }, { field: 'path', direction: 'asc' }]
 */
export function parseOrderParameter(text: string): DocOrderTerm[] {
  return text.split(',').map((part) => {
    const trimmed = part.trim();
    return trimmed.startsWith('-')
      ? { field: trimmed.slice(1), direction: 'desc' as const }
      : { field: trimmed, direction: 'asc' as const };
  });
}

/** The slot kinds of an order, in order (the shape a cursor must have). */
export function sortSlots(order: readonly ResolvedOrderTerm[]): { kind: SortSlotKind; direction: 'asc' | 'desc' }[] {
  return order.flatMap(({ field, direction }): { kind: SortSlotKind; direction: 'asc' | 'desc' }[] => {
    if (field.kind === 'data') {
      return (['rank', 'number', 'text'] as const).map((kind) => ({ kind, direction }));
    }
    const kind: SortSlotKind = field.name === 'createdAt' || field.name === 'updatedAt' ? 'time' : 'text';
    return [{ kind, direction }];
  });
}

/** What the sort keys are computed from. */
export interface SortableDoc {
  path: string;
  id: string;
  data: JsonValue;
  createdAt: Date;
  updatedAt: Date;
}

/** The flattened sort key of a document (see the module comment). */
export function sortKey(doc: SortableDoc, order: readonly ResolvedOrderTerm[]): SortValue[] {
  return order.flatMap(({ field }): SortValue[] => {
    if (field.kind === 'meta') {
      if (field.name === 'createdAt') return [doc.createdAt.getTime()];
      if (field.name === 'updatedAt') return [doc.updatedAt.getTime()];
      return [field.name === 'id' ? doc.id : doc.path];
    }
    const value = fieldValue(doc.data, field.segments);
    if (value === undefined) return [0, 0, ''];
    const rank = TYPE_RANK[jsonType(value)];
    const number = typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : 0;
    return [rank, number, typeof value === 'string' ? value : ''];
  });
}

/** Compares two sort keys under the order's directions. */
export function compareSortKeys(
  a: readonly SortValue[],
  b: readonly SortValue[],
  slots: readonly { direction: 'asc' | 'desc' }[],
): number {
  for (let i = 0; i < slots.length; i++) {
    const x = a[i] as SortValue;
    const y = b[i] as SortValue;
    const base =
      typeof x === 'string' ? compareCodePoints(x, y as string) : x < (y as number) ? -1 : x > (y as number) ? 1 : 0;
    if (base !== 0) return slots[i]?.direction === 'desc' ? -base : base;
  }
  return 0;
}

/** A stable fingerprint of what a cursor is bound to (scope, filter, order). */
export function queryFingerprint(query: unknown): string {
  return createHash('sha256').update(stableJson(query)).digest('base64url').slice(0, 22);
}

interface QueryCursor extends Record<string, unknown> {
  q: string;
  k: SortValue[];
}

/** A cursor after the document with sort key `key`, bound to `fingerprint`. */
export function encodeQueryCursor(fingerprint: string, key: readonly SortValue[]): string {
  return encodeCursor({ q: fingerprint, k: [...key] });
}

/**
 * Decodes a cursor for this query: 400 for garbage, and for a cursor of another query.
 *
 * @example
 * const after = decodeQueryCursor(cursor, fingerprint, sortSlots(order));
 */
export function decodeQueryCursor(
  cursor: string,
  fingerprint: string,
  slots: readonly { kind: SortSlotKind }[],
): SortValue[] {
  const decoded = decodeCursor(
    cursor,
    (value): value is QueryCursor =>
      typeof value.q === 'string' &&
      Array.isArray(value.k) &&
      value.k.length === slots.length &&
      value.k.every((item, index) =>
        slots[index]?.kind === 'text' ? typeof item === 'string' : typeof item === 'number' && Number.isFinite(item),
      ),
  );
  if (decoded.q !== fingerprint) {
    throw new ProServerError(
      'VALIDATION_FAILED',
      'the cursor belongs to another query (scope, filter or order differ)',
      {
        errors: [{ path: 'cursor', message: 'returned by another query' }],
      },
    );
  }
  return decoded.k;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
