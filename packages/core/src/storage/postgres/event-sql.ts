import { type SQL, sql } from 'drizzle-orm';

/**
 * SQL builders for events written inside the statement of their change (a data-modifying
 * CTE), so a single-row write gains no transaction round trips. They build the same `data`
 * objects as the JavaScript builders the memory stores use (kv/events.ts, tasks/event-data.ts);
 * the event contract suite checks both on every backend.
 */

/** A timestamptz as the ISO 8601 text JavaScript's `toISOString()` writes (millisecond precision, `Z`). */
export function isoText(column: SQL): SQL {
  return sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * The `data` of a key-value event from a written row aliased `w`. `value`: `include` puts the
 * value in, `omit` says `valueOmitted: true` (too large), `none` leaves it out (deleted keys).
 */
export function kvEventDataSql(value: 'include' | 'omit' | 'none'): SQL {
  const base = sql`jsonb_build_object('key', w.key, 'version', w.version, 'tags', w.tags,
    'expiresAt', ${isoText(sql`w.expires_at`)})`;
  if (value === 'include') return sql`(${base} || jsonb_build_object('value', w.value))`;
  if (value === 'omit') return sql`(${base} || '{"valueOmitted": true}'::jsonb)`;
  return base;
}

/** The `data` of a task event from a task row aliased `alias` (see `taskEventData`). */
export function taskEventDataSql(alias: string): SQL {
  const a = sql.raw(alias);
  return sql`jsonb_build_object('id', ${a}.id, 'type', ${a}.type, 'status', ${a}.status, 'priority', ${a}.priority,
    'attempt', ${a}.attempt, 'progress', ${a}.progress, 'stage', ${a}.stage, 'error', ${a}.error)`;
}

/**
 * The i-th (1-based) of a list of pre-made event ids, passed as one parameter: batched
 * statements number their rows with `row_number()` and take one id each.
 */
export function eventIdAt(ids: readonly string[], position: SQL): SQL {
  // The cast sits in an uncorrelated scalar subquery (an InitPlan): the list is parsed once per
  // statement. As a bare `$n::text::jsonb` a generic plan parses it again for every row
  // (a 450-row claim spent ~13 ms there).
  return sql`((SELECT ${JSON.stringify(ids)}::text::jsonb) ->> ((${position}) - 1)::int)`;
}
