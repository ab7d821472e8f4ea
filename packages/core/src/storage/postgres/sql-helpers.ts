/**
 * Normalises the differences between the `postgres` driver and PGlite at the adapter edge.
 *
 * - `db.execute()` answers an array (postgres) or `{rows}` (PGlite): use {@link rowsOf}.
 * - Timestamps arrive as strings from both drivers under drizzle: use {@link toDate}.
 * - JSON: drizzle's jsonb mapping re-parses strings, which corrupts top-level JSON strings
 *   such as `"123"`. Raw SQL therefore writes JSON with {@link jsonb} (`$1::text::jsonb`)
 *   and reads it as text (`value::text AS value`), parsed with {@link parseJson}.
 * - Integers: use `integer` columns or cast to `::int`/`::float8`; int8 arrives as a string
 *   from `postgres` and as a bigint from PGlite.
 */
import { type SQL, sql } from 'drizzle-orm';

export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}

export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' || typeof value === 'number') return new Date(value);
  throw new TypeError(`not a timestamp: ${String(value)}`);
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/** A JSON value as a SQL expression of type jsonb. */
export function jsonb(value: unknown): SQL {
  return sql`${JSON.stringify(value)}::text::jsonb`;
}

/** A Date as a bound timestamptz parameter (the current time is always a parameter). */
export function timestamptz(value: Date): SQL {
  return sql`${value.toISOString()}::timestamptz`;
}

/** A Date-or-null as a bound timestamptz parameter. */
export function timestamptzOrNull(value: Date | null): SQL {
  return value === null ? sql`NULL::timestamptz` : timestamptz(value);
}

export function parseJson<T = unknown>(text: unknown): T {
  if (typeof text !== 'string') throw new TypeError('expected JSON text from the database');
  return JSON.parse(text) as T;
}

/** Escapes `%`, `_` and `\` for a LIKE pattern (default escape character `\`). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * A list of strings as one bound parameter, usable as `x = ${textList(values)}`: the statement
 * text stays the same for any length, so it is prepared once. `= ANY (ARRAY(…))` rather than
 * `IN (SELECT …)`: the array form is matched through the column's index in every plan, where a
 * semi-join's generic plan, made while the table was small, may keep scanning the whole table.
 */
export function textList(values: readonly string[]): SQL {
  return sql`ANY (ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::text::jsonb)))`;
}

/**
 * The SQLSTATE of a database error (`40P01`, `23505`, …), looking through the causes drivers and
 * drizzle wrap it in; undefined for anything else (a lost connection, a bug).
 */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
