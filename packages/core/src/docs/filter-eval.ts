/**
 * Evaluates a parsed filter on one document, in process (the memory adapter). Each case
 * mirrors the SQL the PostgreSQL compiler emits for it (storage/postgres/doc-query-compiler.ts);
 * the shared contract suite checks that both agree. Every condition is two-valued: a missing
 * field makes a comparison false (and so `$ne`, `$nin` and `$not` true).
 */
import type { JsonValue } from '../kv/types.js';
import type { FieldRef } from './fields.js';
import type { FilterNode } from './filter.js';
import { compareCodePoints, fieldValue, jsonEqual } from './json-semantics.js';
import type { SortableDoc } from './order.js';

/**
 * True when `doc` matches `filter`.
 *
 * @example
 * matchesFilter(doc, parseFilter({ status: { $in: ['failed', 'error'] } }));
 */
export function matchesFilter(doc: SortableDoc, filter: FilterNode): boolean {
  switch (filter.op) {
    case 'all':
      return true;
    case 'and':
      return filter.children.every((child) => matchesFilter(doc, child));
    case 'or':
      return filter.children.some((child) => matchesFilter(doc, child));
    case 'not':
      return !matchesFilter(doc, filter.child);
    case 'exists':
      return (read(doc, filter.field) !== undefined) === filter.value;
    case 'in':
      return isIn(read(doc, filter.field), filter.values);
    case 'nin':
      return !isIn(read(doc, filter.field), filter.values);
    case 'ne':
      return !equals(read(doc, filter.field), filter.value);
    case 'eq':
      return equals(read(doc, filter.field), filter.value);
    case 'contains':
      return contains(read(doc, filter.field), filter.value);
    case 'startsWith': {
      const value = read(doc, filter.field);
      return typeof value === 'string' && value.startsWith(filter.value as string);
    }
    default:
      return compareRange(read(doc, filter.field), filter.op, filter.value, filter.field);
  }
}

/** A field's value; times as ISO strings (compared as instants in {@link compareRange}). */
function read(doc: SortableDoc, field: FieldRef): JsonValue | undefined {
  if (field.kind === 'data') return fieldValue(doc.data, field.segments);
  switch (field.name) {
    case 'id':
      return doc.id;
    case 'path':
      return doc.path;
    case 'createdAt':
      return doc.createdAt.toISOString();
    case 'updatedAt':
      return doc.updatedAt.toISOString();
  }
}

function equals(value: JsonValue | undefined, operand: JsonValue): boolean {
  return value !== undefined && jsonEqual(value, operand);
}

function isIn(value: JsonValue | undefined, operands: readonly JsonValue[]): boolean {
  return value !== undefined && operands.some((operand) => jsonEqual(value, operand));
}

/** Arrays: an element equals the operand. Strings: the operand string is a substring. */
function contains(value: JsonValue | undefined, operand: JsonValue): boolean {
  if (Array.isArray(value)) return value.some((item) => jsonEqual(item, operand));
  return typeof value === 'string' && typeof operand === 'string' && value.includes(operand);
}

/** Only values of the operand's JSON type compare: numbers numerically, strings by code point. */
function compareRange(
  value: JsonValue | undefined,
  op: 'gt' | 'gte' | 'lt' | 'lte',
  operand: JsonValue,
  field: FieldRef,
): boolean {
  let order: number;
  if (field.kind === 'meta' && (field.name === 'createdAt' || field.name === 'updatedAt')) {
    order = Math.sign(Date.parse(value as string) - Date.parse(operand as string));
  } else if (typeof value === 'number' && typeof operand === 'number') {
    order = Math.sign(value - operand);
  } else if (typeof value === 'string' && typeof operand === 'string') {
    order = compareCodePoints(value, operand);
  } else {
    return false;
  }
  switch (op) {
    case 'gt':
      return order > 0;
    case 'gte':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'lte':
      return order <= 0;
  }
}
