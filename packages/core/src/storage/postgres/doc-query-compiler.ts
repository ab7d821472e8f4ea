/**
 * Compiles a parsed document query to PARAMETERISED SQL. Every value from a request (field
 * names, operands, cursor positions, scope patterns) is a bound parameter: field paths are
 * bound as `text[]` for jsonb's `#>`, values as JSON text cast to jsonb, patterns as regex
 * text. Nothing a client sends is ever spliced into the SQL text; only the shape of the
 * filter (which operators, how nested) changes the statement.
 *
 * Each condition mirrors docs/filter-eval.ts (the memory adapter) exactly and is two-valued
 * (COALESCE(…, false)), so `$ne`, `$nin` and `$not` match documents missing the field there too.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { FieldRef } from '../../docs/fields.js';
import type { FilterNode } from '../../docs/filter.js';
import { isArrayIndexSegment } from '../../docs/json-semantics.js';
import { type ResolvedOrderTerm, type SortValue, sortSlots } from '../../docs/order.js';
import { prefixEnd } from '../../docs/paths.js';
import { globToPgRegex, literalPrefix } from '../../docs/visibility.js';
import type { JsonValue } from '../../kv/types.js';
import type { DocStoreQuery } from '../ports.js';
import { jsonb } from './sql-helpers.js';

const META_COLUMNS = {
  id: sql.raw('d.doc_id'),
  path: sql.raw('d.path'),
  createdAt: sql.raw('d.created_at'),
  updatedAt: sql.raw('d.updated_at'),
} as const;

/**
 * A PostgreSQL array literal of the segments (every element quoted, `"` and `\` escaped),
 * sent as the value of a `$n::text[]` parameter.
 *
 * @example
 * textArrayLiteral(['a', 'b"c']); // '{"a","b\\"c"}'
 */
export function textArrayLiteral(segments: readonly string[]): string {
  return `{${segments.map((segment) => `"${segment.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** The jsonb value of a data field (`data #> $path`), SQL NULL when missing. */
function dataField(segments: readonly string[]): SQL {
  return sql`(d.data #> ${textArrayLiteral(segments)}::text[])`;
}

function isTime(field: FieldRef): boolean {
  return field.kind === 'meta' && (field.name === 'createdAt' || field.name === 'updatedAt');
}

/** A meta field operand: text, or a timestamptz for the time fields. */
function metaValue(field: FieldRef, value: JsonValue): SQL {
  return isTime(field) ? sql`${value as string}::timestamptz` : sql`${value as string}`;
}

const RANGE_OPERATORS = { gt: sql.raw('>'), gte: sql.raw('>='), lt: sql.raw('<'), lte: sql.raw('<=') } as const;

/** `data @> {a: {b: value}}`: equality on a path of object members, answered by the GIN index. */
function containment(segments: readonly string[], value: JsonValue): SQL {
  let nested: JsonValue = value;
  for (const segment of [...segments].reverse()) {
    const level: { [key: string]: JsonValue } = {};
    Object.defineProperty(level, segment, { value: nested, enumerable: true, writable: true, configurable: true });
    nested = level;
  }
  return sql`(d.data @> ${jsonb(nested)})`;
}

function compileLeaf(node: Exclude<FilterNode, { op: 'all' | 'and' | 'or' | 'not' }>): SQL {
  const { field } = node;
  if (field.kind === 'meta') {
    const column = META_COLUMNS[field.name];
    switch (node.op) {
      case 'exists':
        return node.value ? sql`true` : sql`false`;
      case 'eq':
        return sql`(${column} = ${metaValue(field, node.value)})`;
      case 'ne':
        return sql`(${column} <> ${metaValue(field, node.value)})`;
      case 'in':
      case 'nin': {
        const list = isTime(field)
          ? sql`SELECT (jsonb_array_elements_text(${jsonb(node.values)}))::timestamptz`
          : sql`SELECT jsonb_array_elements_text(${jsonb(node.values)})`;
        return node.op === 'in' ? sql`(${column} IN (${list}))` : sql`(${column} NOT IN (${list}))`;
      }
      case 'contains':
        return sql`(strpos(${column}, ${node.value as string}) > 0)`;
      case 'startsWith': {
        const prefix = node.value as string;
        // A range on the path lets the primary key (or a path-ordered index) find the prefix.
        const range =
          field.name === 'path' && /^[\x20-\x7e]+$/.test(prefix)
            ? sql` AND ${column} >= ${prefix} AND ${column} < ${prefixEnd(prefix)}`
            : sql``;
        return sql`(starts_with(${column}, ${prefix})${range})`;
      }
      default:
        return sql`(${column} ${RANGE_OPERATORS[node.op]} ${metaValue(field, node.value)})`;
    }
  }
  const f = dataField(field.segments);
  switch (node.op) {
    case 'exists':
      return node.value ? sql`(${f} IS NOT NULL)` : sql`(${f} IS NULL)`;
    case 'eq':
    case 'ne': {
      const scalar = node.value === null || typeof node.value !== 'object';
      const equal =
        scalar && !field.segments.some(isArrayIndexSegment)
          ? containment(field.segments, node.value)
          : sql`COALESCE(${f} = ${jsonb(node.value)}, false)`;
      return node.op === 'eq' ? equal : sql`(NOT ${equal})`;
    }
    case 'in':
    case 'nin': {
      const member = sql`COALESCE(${f} IN (SELECT jsonb_array_elements(${jsonb(node.values)})), false)`;
      return node.op === 'in' ? member : sql`(NOT ${member})`;
    }
    case 'contains': {
      const text = typeof node.value === 'string' ? sql`strpos(${f} #>> '{}', ${node.value}) > 0` : sql`false`;
      return sql`COALESCE(CASE jsonb_typeof(${f})
        WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(${f}) AS e(v) WHERE e.v = ${jsonb(node.value)})
        WHEN 'string' THEN ${text} ELSE false END, false)`;
    }
    case 'startsWith':
      return sql`COALESCE(jsonb_typeof(${f}) = 'string' AND starts_with(${f} #>> '{}', ${node.value as string}), false)`;
    default: {
      const op = RANGE_OPERATORS[node.op];
      return typeof node.value === 'number'
        ? sql`COALESCE(jsonb_typeof(${f}) = 'number' AND ${f} ${op} ${jsonb(node.value)}, false)`
        : sql`COALESCE(jsonb_typeof(${f}) = 'string' AND (${f} #>> '{}') COLLATE "C" ${op} ${node.value as string}, false)`;
    }
  }
}

/** The filter as one boolean SQL expression that is never NULL. */
export function compileFilter(node: FilterNode): SQL {
  switch (node.op) {
    case 'all':
      return sql`true`;
    case 'and':
    case 'or':
      return sql`(${sql.join(node.children.map(compileFilter), node.op === 'and' ? sql` AND ` : sql` OR `)})`;
    case 'not':
      return sql`(NOT ${compileFilter(node.child)})`;
    default:
      return compileLeaf(node);
  }
}

/** The sort-key expressions of an order (docs/order.ts `sortKey` computes the same in memory). */
export function sortExpressions(order: readonly ResolvedOrderTerm[]): SQL[] {
  return order.flatMap(({ field }) => {
    if (field.kind === 'meta') return [META_COLUMNS[field.name]];
    const f = dataField(field.segments);
    return [
      sql`(CASE jsonb_typeof(${f}) WHEN 'null' THEN 1 WHEN 'boolean' THEN 2 WHEN 'number' THEN 3
        WHEN 'string' THEN 4 WHEN 'array' THEN 5 WHEN 'object' THEN 6 ELSE 0 END)`,
      sql`(CASE jsonb_typeof(${f}) WHEN 'number' THEN (${f})::numeric
        WHEN 'boolean' THEN (CASE WHEN (${f})::boolean THEN 1 ELSE 0 END) ELSE 0 END)`,
      sql`((CASE jsonb_typeof(${f}) WHEN 'string' THEN ${f} #>> '{}' ELSE '' END) COLLATE "C")`,
    ];
  });
}

/** `ORDER BY …` for the order. */
export function compileOrderBy(order: readonly ResolvedOrderTerm[]): SQL {
  const slots = sortSlots(order);
  const keys = sortExpressions(order);
  return sql.join(
    keys.map((key, i) => (slots[i]?.direction === 'desc' ? sql`${key} DESC` : sql`${key} ASC`)),
    sql`, `,
  );
}

/**
 * Rows strictly after the cursor position. With one direction throughout, a row comparison
 * (`(k1, k2) > ($1, $2)`), which an index on the same columns can start from; with mixed
 * directions, the equivalent OR of prefixes.
 */
export function compileAfter(order: readonly ResolvedOrderTerm[], after: readonly SortValue[]): SQL {
  const slots = sortSlots(order);
  const keys = sortExpressions(order);
  const values = after.map((value, i) => {
    switch (slots[i]?.kind) {
      case 'time':
        return sql`${new Date(value as number).toISOString()}::timestamptz`;
      case 'rank':
        return sql`${value as number}::int`;
      case 'number':
        return sql`${String(value)}::numeric`;
      default:
        return sql`${value as string}`;
    }
  });
  const directions = new Set(slots.map((slot) => slot.direction));
  if (directions.size === 1) {
    const op = directions.has('desc') ? sql.raw('<') : sql.raw('>');
    return sql`((${sql.join(keys, sql`, `)}) ${op} (${sql.join(values, sql`, `)}))`;
  }
  const alternatives = keys.map((key, i) => {
    const equalBefore = keys.slice(0, i).map((earlier, j) => sql`${earlier} = ${values[j]}`);
    const beyond = slots[i]?.direction === 'desc' ? sql`${key} < ${values[i]}` : sql`${key} > ${values[i]}`;
    return sql`(${sql.join([...equalBefore, beyond], sql` AND `)})`;
  });
  return sql`(${sql.join(alternatives, sql` OR `)})`;
}

/** The scope: one collection, or a collection group (optionally below a path). */
export function compileScope(scope: DocStoreQuery['scope']): SQL {
  if (scope.kind === 'collection') {
    return sql`d.parent_path = ${scope.parentPath} AND d.collection = ${scope.collection}`;
  }
  if (scope.under === null) return sql`d.collection = ${scope.collection}`;
  const prefix = `${scope.under}/`;
  return sql`d.collection = ${scope.collection} AND d.path >= ${prefix} AND d.path < ${prefixEnd(prefix)}`;
}

/**
 * Readable paths (scope patterns) as SQL: each pattern is a regex match, plus a range on its
 * literal prefix so an index can narrow the scan. `column` is the path column to test.
 */
export function compileVisibility(patterns: readonly string[] | null, column: SQL = sql.raw('d.path')): SQL {
  if (patterns === null) return sql`true`;
  if (patterns.length === 0) return sql`false`;
  const parts = patterns.map((pattern) => {
    const literal = literalPrefix(pattern);
    const regex = sql`${column} ~ ${globToPgRegex(pattern)}`;
    return literal === '' ? regex : sql`(${column} >= ${literal} AND ${column} < ${prefixEnd(literal)} AND ${regex})`;
  });
  return sql`(${sql.join(parts, sql` OR `)})`;
}
