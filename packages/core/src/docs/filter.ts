/**
 * The filter language (SPEC §5): a Mongo-style JSON AST parsed into {@link FilterNode}, the one
 * form both the SQL compiler and the memory evaluator consume. Parsing refuses everything it
 * does not understand with a 400 naming the place (`where.$and.1.status.$gt`).
 */
import { ProServerError } from '../errors.js';
import type { JsonValue } from '../kv/types.js';
import { kvValueSchema } from '../kv/validation.js';
import { type FieldRef, parseField } from './fields.js';

export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'startsWith';

/** A parsed filter. `all` matches every document (the empty filter). */
export type FilterNode =
  | { op: 'all' }
  | { op: 'and' | 'or'; children: FilterNode[] }
  | { op: 'not'; child: FilterNode }
  | { op: ComparisonOp; field: FieldRef; value: JsonValue }
  | { op: 'in' | 'nin'; field: FieldRef; values: JsonValue[] }
  | { op: 'exists'; field: FieldRef; value: boolean };

/** Most values in one `$in` / `$nin`. */
export const MAX_IN_VALUES = 100;
/** Deepest nesting of filter objects (`$and`, `$or`, `$not` each open a level). */
export const MAX_FILTER_DEPTH = 8;
/** Most conditions in one filter (bounds the SQL a filter compiles to). */
export const MAX_FILTER_CONDITIONS = 256;

const FIELD_OPERATORS: Record<string, ComparisonOp | 'in' | 'nin' | 'exists' | 'not'> = {
  $eq: 'eq',
  $ne: 'ne',
  $gt: 'gt',
  $gte: 'gte',
  $lt: 'lt',
  $lte: 'lte',
  $contains: 'contains',
  $startsWith: 'startsWith',
  $in: 'in',
  $nin: 'nin',
  $exists: 'exists',
  $not: 'not',
};

/** Times in filters: ISO 8601 with an offset and at most millisecond precision (what both backends store exactly). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

class FilterParser {
  private conditions = 0;

  parse(filter: unknown, at: string, depth: number): FilterNode {
    if (depth > MAX_FILTER_DEPTH) throw fail(at, `nested deeper than ${MAX_FILTER_DEPTH} levels`);
    if (!isPlainObject(filter)) throw fail(at, 'a filter is a JSON object');
    const parts: FilterNode[] = [];
    for (const [key, value] of Object.entries(filter)) {
      const here = join(at, key);
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0) throw fail(here, `${key} takes a non-empty array of filters`);
        const children = value.map((child, index) => this.parse(child, join(here, String(index)), depth + 1));
        parts.push({ op: key === '$and' ? 'and' : 'or', children });
      } else if (key === '$not') {
        parts.push({ op: 'not', child: this.parse(value, here, depth + 1) });
      } else if (key.startsWith('$')) {
        throw fail(here, `unsupported operator ${key.slice(0, 40)} (use $and, $or, $not or a field name)`);
      } else {
        parts.push(this.fieldCondition(parseField(key, here), value as JsonValue, here, depth));
      }
    }
    return combine(parts);
  }

  private fieldCondition(field: FieldRef, value: JsonValue, at: string, depth: number): FilterNode {
    if (!isOperatorObject(value, at)) return this.leaf(field, 'eq', value, at);
    const parts: FilterNode[] = [];
    for (const [key, operand] of Object.entries(value)) {
      const here = join(at, key);
      const op = FIELD_OPERATORS[key];
      if (op === undefined) throw fail(here, `unsupported operator ${key.slice(0, 40)}`);
      if (op === 'not') {
        if (depth + 1 > MAX_FILTER_DEPTH) throw fail(here, `nested deeper than ${MAX_FILTER_DEPTH} levels`);
        if (!isOperatorObject(operand, here)) throw fail(here, '$not on a field takes an object of operators');
        parts.push({ op: 'not', child: this.fieldCondition(field, operand, here, depth + 1) });
      } else {
        parts.push(this.leaf(field, op, operand as JsonValue, here));
      }
    }
    return combine(parts);
  }

  private leaf(
    field: FieldRef,
    op: ComparisonOp | 'in' | 'nin' | 'exists',
    operand: JsonValue,
    at: string,
  ): FilterNode {
    this.conditions += 1;
    if (this.conditions > MAX_FILTER_CONDITIONS) throw fail(at, `more than ${MAX_FILTER_CONDITIONS} conditions`);
    if (op === 'exists') {
      if (typeof operand !== 'boolean') throw fail(at, '$exists takes true or false');
      return { op, field, value: operand };
    }
    if (op === 'in' || op === 'nin') {
      if (!Array.isArray(operand)) throw fail(at, `$${op} takes an array of values`);
      if (operand.length > MAX_IN_VALUES) throw fail(at, `$${op} takes at most ${MAX_IN_VALUES} values`);
      return {
        op,
        field,
        values: operand.map((item, index) => checkOperand(field, 'eq', item, join(at, String(index)))),
      };
    }
    return { op, field, value: checkOperand(field, op, operand, at) };
  }
}

/** Checks one operand against what its operator and field accept; answers it (times normalised). */
function checkOperand(field: FieldRef, op: ComparisonOp, operand: JsonValue, at: string): JsonValue {
  const json = kvValueSchema.safeParse(operand);
  if (!json.success) throw fail(at, json.error.issues[0]?.message ?? 'not a JSON value');
  const range = op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte';
  if (field.kind === 'data') {
    if (range && typeof operand !== 'number' && typeof operand !== 'string') {
      throw fail(at, 'range operators compare numbers or strings');
    }
    if (op === 'startsWith' && typeof operand !== 'string') throw fail(at, '$startsWith takes a string');
    return operand;
  }
  if (field.name === 'createdAt' || field.name === 'updatedAt') {
    if (op === 'contains' || op === 'startsWith') throw fail(at, `$${op} does not apply to ${field.name}`);
    if (typeof operand !== 'string' || !ISO_TIME.test(operand) || Number.isNaN(Date.parse(operand))) {
      throw fail(at, `${field.name} compares with an ISO 8601 time with offset (at most millisecond precision)`);
    }
    return new Date(operand).toISOString();
  }
  if (typeof operand !== 'string') throw fail(at, `${field.name} compares with strings`);
  return operand;
}

/**
 * Parses a filter (undefined or `{}` matches everything).
 *
 * @example
 * parseFilter({ status: 'failed', attempts: { $gte: 3 } });
 * // { op: 'and', children: [{ op: 'eq', … }, { op: 'gte', … }] }
 */
export function parseFilter(filter: unknown, at = 'where'): FilterNode {
  if (filter === undefined) return { op: 'all' };
  return new FilterParser().parse(filter, at, 1);
}

function combine(parts: FilterNode[]): FilterNode {
  if (parts.length === 0) return { op: 'all' };
  if (parts.length === 1) return parts[0] as FilterNode;
  return { op: 'and', children: parts };
}

/** An object whose keys all start with `$` is a set of operators; mixing is refused. */
function isOperatorObject(value: unknown, at: string): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  const operators = keys.filter((key) => key.startsWith('$')).length;
  if (operators > 0 && operators < keys.length) {
    throw fail(at, 'mixes operators ($…) and field names; nest the fields or use $eq with an object');
  }
  return operators > 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

function fail(at: string, message: string): ProServerError {
  return new ProServerError('VALIDATION_FAILED', `the filter is not valid (${at}: ${message})`, {
    errors: [{ path: at, message }],
  });
}
