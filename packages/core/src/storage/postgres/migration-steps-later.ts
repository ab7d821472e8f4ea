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
  {
    id: 8,
    name: 'event inbox',
    statements: [
      // Writers no longer insert one unsequenced row per event into the log (each then
      // rewritten by the sequencer with its seq: two heap tuples and five index entries per
      // event). A statement that changes something appends ONE inbox row holding all its
      // events, in order (`events`, a JSON array; `n` of them); the sequencer moves committed
      // inbox rows into the log, numbering each event as it inserts it, and deletes them. Per
      // event that leaves one insert into the log.
      `CREATE TABLE event_inbox (
        append_order bigint NOT NULL DEFAULT nextval('events_append_order_seq'),
        n integer NOT NULL,
        events jsonb NOT NULL
      )`,
      // The sequencer reads the inbox in append order (the rows it deleted are skipped
      // through the index's dead-entry marks, not re-read from the heap).
      'CREATE INDEX event_inbox_order_idx ON event_inbox (append_order)',
      // Each row is read once, by the sequencer, soon after it is written: compressing it is
      // CPU spent for nothing.
      'ALTER TABLE event_inbox ALTER COLUMN events SET STORAGE EXTERNAL',
      `INSERT INTO event_inbox (append_order, n, events)
        SELECT append_order, 1, jsonb_build_array(jsonb_build_object('id', id, 'type', type, 'subject', subject,
          'data', data, 'actor', actor, 'at', at))
        FROM events WHERE seq IS NULL`,
      'DELETE FROM events WHERE seq IS NULL',
      'DROP INDEX events_unsequenced_idx',
      'ALTER TABLE events DROP COLUMN append_order',
      'ALTER TABLE events ALTER COLUMN seq SET NOT NULL',
    ],
  },
  {
    id: 9,
    name: 'claims never walk the whole line',
    statements: [
      // The whole line of a priority, for the readers that need it (the lane head at submit,
      // queue depths). Its predicate adds `fair_seq > 0`, true of every queued task (lanes
      // start at 1; only schedules have 0), which the claim does not say: so the claim can
      // never use it. A generic plan of the claim preferred it to tasks_claim_type_idx and
      // filtered on the type, and each handled type then walked the head of the whole line,
      // claimed rows not yet vacuumed included: during a drain half of a 500-task claim's time,
      // more with more handled types.
      'DROP INDEX tasks_claim_idx',
      `CREATE INDEX tasks_line_idx ON tasks (priority, fair_seq, id)
        WHERE status = 'pending' AND NOT is_schedule AND fair_seq > 0`,
    ],
  },
  {
    id: 10,
    name: 'event inbox rows hold arrays',
    statements: [
      // An inbox row holds its events as one array per field, in order, instead of a JSON
      // array of objects: a writer aggregates the values it already has (array_agg) instead of
      // building a jsonb object per event and a jsonb array of them, and the sequencer reads
      // them back with unnest instead of taking the JSON apart. Per event, in a task drain:
      // that building and taking apart was most of the inbox's cost.
      `ALTER TABLE event_inbox ADD COLUMN ids text[], ADD COLUMN types text[], ADD COLUMN subjects text[],
        ADD COLUMN data jsonb[], ADD COLUMN actors text[], ADD COLUMN ats timestamptz[]`,
      `UPDATE event_inbox SET (ids, types, subjects, data, actors, ats) = (
        SELECT array_agg(e.id ORDER BY e.position), array_agg(e.type ORDER BY e.position),
               array_agg(e.subject ORDER BY e.position), array_agg(coalesce(e.data, 'null'::jsonb) ORDER BY e.position),
               array_agg(e.actor ORDER BY e.position), array_agg(e.at ORDER BY e.position)
        FROM ROWS FROM (jsonb_to_recordset(events)
          AS (id text, type text, subject text, data jsonb, actor text, at timestamptz))
          WITH ORDINALITY AS e(id, type, subject, data, actor, at, position))`,
      'DELETE FROM event_inbox WHERE ids IS NULL',
      'ALTER TABLE event_inbox DROP COLUMN events',
      `ALTER TABLE event_inbox ALTER COLUMN ids SET NOT NULL, ALTER COLUMN types SET NOT NULL,
        ALTER COLUMN subjects SET NOT NULL, ALTER COLUMN data SET NOT NULL, ALTER COLUMN actors SET NOT NULL,
        ALTER COLUMN ats SET NOT NULL`,
      // Read once, soon after it is written (see migration 8): not compressed.
      `ALTER TABLE event_inbox ALTER COLUMN ids SET STORAGE EXTERNAL, ALTER COLUMN types SET STORAGE EXTERNAL,
        ALTER COLUMN subjects SET STORAGE EXTERNAL, ALTER COLUMN data SET STORAGE EXTERNAL,
        ALTER COLUMN actors SET STORAGE EXTERNAL, ALTER COLUMN ats SET STORAGE EXTERNAL`,
    ],
  },
  {
    id: 11,
    name: 'document history entries numbered per path',
    statements: [
      // Each history entry's position in its path's history (1, 2, …, never reused; a path
      // deleted and created again goes on counting), so the per-document retention trim is a
      // range (`ordinal <= newest - maxVersions`) that reads only the entries it deletes. It
      // used to walk the newest `maxVersions` entries of the path through (path, revision),
      // visiting each one's row: with the default 100, ~100 buffers per write of a document
      // with a full history, a third of a write's database time. Ordinals follow revisions
      // within a path, so the history readers use this index in the same order.
      'ALTER TABLE document_history ADD COLUMN ordinal bigint',
      `UPDATE document_history h SET ordinal = n.ordinal
        FROM (SELECT revision, row_number() OVER (PARTITION BY path ORDER BY revision) AS ordinal
              FROM document_history) n
        WHERE h.revision = n.revision`,
      'ALTER TABLE document_history ALTER COLUMN ordinal SET NOT NULL',
      'CREATE INDEX document_history_ordinal_idx ON document_history (path, ordinal)',
      'DROP INDEX document_history_path_idx',
    ],
  },
];
