import type { PGlite } from '@electric-sql/pglite';

/** Every this many passes, a pass also analyzes (the planner's statistics). */
const ANALYZE_EVERY = 10;

/**
 * PGlite runs PostgreSQL in single-user mode: no autovacuum and no autoanalyze. Without them
 * every row version an update or a delete leaves behind (a task's claim and its outcome, a
 * moved event-inbox row, a key's new value) stays in the table and in its indexes for good, and
 * queue scans keep reading it: a 2,000-row table updated 100 times grew to 8.5 MB, against
 * 0.9 MB with a VACUUM every 10 updates. This pass does autovacuum's work: VACUUM (the space
 * becomes reusable; the files do not shrink), with ANALYZE on the first pass and every
 * ANALYZE_EVERY-th after it. It holds PGlite's single connection while it runs.
 *
 * @example
 * const vacuum = pgliteVacuum(client);
 * await vacuum(); // VACUUM (ANALYZE)
 * await vacuum(); // VACUUM
 */
export function pgliteVacuum(client: PGlite): () => Promise<void> {
  let passes = 0;
  return async () => {
    await client.exec(passes++ % ANALYZE_EVERY === 0 ? 'VACUUM (ANALYZE)' : 'VACUUM');
  };
}
