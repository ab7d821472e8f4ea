/**
 * Migrations after the first release of each domain: indexes and table changes made for
 * performance. Never edit a released migration: append a new one.
 */
import type { Migration } from './migrations.js';

export const LATER_MIGRATIONS: readonly Migration[] = [
  {
    id: 6,
    name: 'task claim by type',
    statements: [
      // Claims walk the line of each task type the worker handles (see task-claim.ts), so a
      // backlog of a type it has no handler for is never read. tasks_claim_idx stays for the
      // claim-free readers of a whole line (fair_seq head per priority, critical counts).
      `CREATE INDEX tasks_claim_type_idx ON tasks (priority, type, fair_seq, id)
        WHERE status = 'pending' AND NOT is_schedule`,
    ],
  },
  {
    id: 7,
    name: 'fewer index writes per event and per task',
    statements: [
      // Every event row is written twice (appended, then numbered by the sequencer, a non-HOT
      // update since seq is indexed), so each index on it costs two insertions per event.
      // Nothing reads events by time alone: retention walks the log in seq order.
      'DROP INDEX events_at_idx',
      // Each status change of a task is a non-HOT update (status is in partial index
      // predicates), which inserted a GIN entry even for an empty tag list. Only tagged tasks
      // are indexed now; the tag filter repeats the predicate so the planner can use it.
      'DROP INDEX tasks_tags_idx',
      `CREATE INDEX tasks_tags_idx ON tasks USING gin (tags jsonb_path_ops) WHERE tags <> '[]'::jsonb`,
    ],
  },
];
