/**
 * The first migrations: each domain's tables as first released (key-value and tokens, tasks,
 * the event log, documents). Never edit a released migration: append one to
 * migration-steps-later.ts.
 */
import type { Migration } from './migrations.js';

export const BASE_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'key-value and application tokens',
    statements: [
      `CREATE TABLE kv_entries (
        key text COLLATE "C" PRIMARY KEY,
        value jsonb NOT NULL,
        version integer NOT NULL,
        tags jsonb NOT NULL DEFAULT '[]'::jsonb,
        expires_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`,
      // Tag listing uses `tags @> '["x"]'`: jsonb_path_ops is the smaller GIN for containment.
      'CREATE INDEX kv_entries_tags_idx ON kv_entries USING gin (tags jsonb_path_ops)',
      // The sweeper deletes in expiry order; most keys have no TTL, so index only those that do.
      'CREATE INDEX kv_entries_expires_at_idx ON kv_entries (expires_at) WHERE expires_at IS NOT NULL',
      `CREATE TABLE users (
        id text PRIMARY KEY,
        name text NOT NULL,
        email text UNIQUE,
        role text NOT NULL CHECK (role IN ('owner', 'member')),
        created_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`,
      `CREATE TABLE application_tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        user_id text NOT NULL REFERENCES users (id),
        last4 text NOT NULL,
        scopes jsonb NOT NULL,
        secret_hash text NOT NULL UNIQUE,
        previous_secret_hash text UNIQUE,
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        last_used_at timestamptz,
        last_used_ip text,
        revoked_at timestamptz,
        rotated_at timestamptz
      )`,
      'CREATE INDEX application_tokens_user_idx ON application_tokens (user_id, id)',
    ],
  },
  {
    id: 2,
    name: 'task engine',
    statements: [
      `CREATE TABLE tasks (
        id text COLLATE "C" PRIMARY KEY,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
        priority text NOT NULL CHECK (priority IN ('critical', 'normal', 'batch')),
        payload jsonb NOT NULL,
        result jsonb,
        error jsonb,
        attempt integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL,
        retry jsonb NOT NULL,
        timeout_ms integer NOT NULL,
        progress jsonb,
        stage text,
        stages jsonb NOT NULL DEFAULT '[]'::jsonb,
        run_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        submitter text NOT NULL,
        tags jsonb NOT NULL DEFAULT '[]'::jsonb,
        concurrency_key text,
        parent_id text,
        recurrence jsonb,
        is_schedule boolean NOT NULL DEFAULT false,
        run_count integer NOT NULL DEFAULT 0,
        idempotency_key text,
        cancel_requested boolean NOT NULL DEFAULT false,
        lease_owner text,
        lease_expires_at timestamptz,
        fair_seq bigint NOT NULL,
        log_count integer NOT NULL DEFAULT 0
      )`,
      // The claim reads each priority's line in (fair_seq, id) order; only pending runs are in it,
      // so the index stays as small as the queue however many finished tasks are kept.
      `CREATE INDEX tasks_claim_idx ON tasks (priority, fair_seq, id) WHERE status = 'pending' AND NOT is_schedule`,
      // At most one RUNNING task per concurrency key, across every node: the database enforces it.
      `CREATE UNIQUE INDEX tasks_running_key_idx ON tasks (concurrency_key)
        WHERE status = 'running' AND concurrency_key IS NOT NULL`,
      `CREATE INDEX tasks_lease_idx ON tasks (lease_expires_at) WHERE status = 'running'`,
      `CREATE INDEX tasks_schedule_due_idx ON tasks (run_at) WHERE is_schedule AND status = 'pending'`,
      `CREATE UNIQUE INDEX tasks_idempotency_idx ON tasks (submitter, idempotency_key)
        WHERE idempotency_key IS NOT NULL`,
      `CREATE INDEX tasks_finished_idx ON tasks (finished_at) WHERE finished_at IS NOT NULL`,
      `CREATE INDEX tasks_parent_idx ON tasks (parent_id, id) WHERE parent_id IS NOT NULL`,
      `CREATE INDEX tasks_type_idx ON tasks (type, id)`,
      'CREATE INDEX tasks_tags_idx ON tasks USING gin (tags jsonb_path_ops)',
      // One row per (priority, submitter): the last fair-queue position handed to that lane.
      `CREATE TABLE task_lanes (
        priority text NOT NULL,
        submitter text NOT NULL,
        last_seq bigint NOT NULL,
        PRIMARY KEY (priority, submitter)
      )`,
      `CREATE TABLE task_logs (
        task_id text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        at timestamptz NOT NULL,
        level text NOT NULL,
        message text NOT NULL,
        fields jsonb,
        PRIMARY KEY (task_id, seq)
      )`,
    ],
  },
  {
    id: 3,
    name: 'event log',
    statements: [
      // Writers insert events with seq NULL in the same transaction as the change they
      // describe; a sequencer (any node, one at a time) later numbers the committed ones.
      // Numbering after commit is what makes seq strictly increasing in the order readers
      // see events: a bigserial taken inside concurrent transactions commits out of order.
      `CREATE TABLE events (
        id text PRIMARY KEY,
        seq bigint UNIQUE,
        type text NOT NULL,
        subject text NOT NULL,
        data jsonb NOT NULL,
        actor text,
        at timestamptz NOT NULL
      )`,
      'CREATE INDEX events_unsequenced_idx ON events (id) WHERE seq IS NULL',
      'CREATE INDEX events_at_idx ON events (at)',
      'CREATE SEQUENCE events_seq AS bigint',
    ],
  },
  {
    id: 4,
    name: 'event append order',
    statements: [
      // The sequencer numbers committed events in this order. It is taken inside the writer's
      // transaction, so when one change commits before another begins, the first one's
      // events come first: causal order, whatever the clocks of the nodes that made the
      // ids (event ids carry their node's clock time, which may be skewed).
      'CREATE SEQUENCE events_append_order_seq AS bigint',
      `ALTER TABLE events ADD COLUMN append_order bigint NOT NULL DEFAULT nextval('events_append_order_seq')`,
      'DROP INDEX events_unsequenced_idx',
      'CREATE INDEX events_unsequenced_idx ON events (append_order) WHERE seq IS NULL',
    ],
  },
  {
    id: 5,
    name: 'document store',
    statements: [
      // Revisions are global and never reused (a deleted then re-created document gets new ones).
      'CREATE SEQUENCE doc_revision_seq AS bigint',
      // parent_path/collection/doc_id are the path's parts, stored so indexes can use them.
      // "C" collation everywhere: bytewise order (the memory adapter's order) and range scans
      // for path prefixes.
      `CREATE TABLE documents (
        path text COLLATE "C" PRIMARY KEY,
        parent_path text COLLATE "C" NOT NULL,
        collection text COLLATE "C" NOT NULL,
        doc_id text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        version integer NOT NULL,
        revision bigint NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_by text NOT NULL
      )`,
      // Listing one collection: equality on (parent, collection), then path order, which within
      // one collection is id order. Serves the default order and the keyset cursor directly.
      'CREATE INDEX documents_collection_idx ON documents (parent_path, collection, path)',
      // Collection-group queries: every collection with one id; "below a parent" is a path
      // range on the second column, so the same index serves it in path order.
      'CREATE INDEX documents_group_idx ON documents (collection, path)',
      // The common "recently changed first" order of group queries (and of collections, whose
      // parent is a path range): scanned backwards for updatedAt desc, path desc.
      'CREATE INDEX documents_group_updated_idx ON documents (collection, updated_at, path)',
      // Equality on data fields compiles to containment (data @> {...}): jsonb_path_ops is the
      // smaller, faster GIN for exactly that operator.
      'CREATE INDEX documents_data_idx ON documents USING gin (data jsonb_path_ops)',
      // One row per write: the version history and the change feed (revision order).
      `CREATE TABLE document_history (
        revision bigint PRIMARY KEY,
        path text COLLATE "C" NOT NULL,
        parent_path text COLLATE "C" NOT NULL,
        collection text COLLATE "C" NOT NULL,
        doc_id text COLLATE "C" NOT NULL,
        version integer NOT NULL,
        op text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
        data jsonb,
        at timestamptz NOT NULL,
        actor text NOT NULL
      )`,
      // A document's history, newest first, and the per-document retention trim.
      'CREATE INDEX document_history_path_idx ON document_history (path, revision)',
      // The age-based pruner deletes the oldest first.
      'CREATE INDEX document_history_at_idx ON document_history (at)',
    ],
  },
];
