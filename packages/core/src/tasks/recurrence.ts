import { Cron } from 'croner';
import type { Recurrence } from './types.js';

/** Why `timezone` is not an IANA time zone, or null. */
export function timezoneProblem(timezone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return `unknown time zone ${JSON.stringify(timezone.slice(0, 64))}`;
  }
}

/** Why `expression` is not a cron expression croner accepts (5 or 6 fields), or null. */
export function cronProblem(expression: string): string | null {
  try {
    new Cron(expression, { paused: true, mode: '5-or-6-parts' });
    return null;
  } catch (error) {
    return `invalid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * The first occurrence strictly after `after` (cron in its time zone, default UTC; or a fixed
 * interval counted from `anchor`), or null when there is none before `until`.
 *
 * @example
 * nextOccurrence({ cron: '0 9 * * *', timezone: 'Europe/Paris' }, new Date('2026-01-01T00:00:00Z'), anchor);
 * // 2026-01-01T08:00:00.000Z
 */
export function nextOccurrence(recurrence: Recurrence, after: Date, anchor: Date): Date | null {
  let next: Date | null;
  if ('cron' in recurrence) {
    const cron = new Cron(recurrence.cron, {
      paused: true,
      mode: '5-or-6-parts',
      timezone: recurrence.timezone ?? 'UTC',
    });
    next = cron.nextRun(after);
  } else {
    // Occurrences sit on the grid anchor + k·interval, so a late scheduler does not drift.
    const interval = recurrence.everySeconds * 1000;
    const elapsed = after.getTime() - anchor.getTime();
    const steps = elapsed < 0 ? 0 : Math.floor(elapsed / interval) + 1;
    next = new Date(anchor.getTime() + steps * interval);
  }
  if (next && recurrence.until !== undefined && next.getTime() > new Date(recurrence.until).getTime()) return null;
  return next;
}

/**
 * Where a schedule goes after spawning the occurrence due at `dueAt` (THE missed-occurrence
 * rule): the next occurrence is computed from `max(dueAt, now)`, so when the server was down
 * across several occurrences exactly one run is spawned for all of them, and the schedule
 * continues with the first occurrence after now, never with a burst of catch-up runs.
 * Null when the schedule is finished (`until` passed or `maxRuns` reached).
 */
export function followingOccurrence(recurrence: Recurrence, dueAt: Date, now: Date, runsSoFar: number): Date | null {
  if (recurrence.maxRuns !== undefined && runsSoFar >= recurrence.maxRuns) return null;
  const from = dueAt.getTime() > now.getTime() ? dueAt : now;
  // Intervals stay on the grid of the occurrence just spawned.
  return nextOccurrence(recurrence, from, dueAt);
}

/**
 * The first occurrence of a new schedule starting at `start` (its runAt, or now): `start`
 * itself for an interval, the first cron time at or after `start` for a cron expression.
 */
export function firstOccurrence(recurrence: Recurrence, start: Date): Date | null {
  return nextOccurrence(recurrence, new Date(start.getTime() - 1), start);
}
