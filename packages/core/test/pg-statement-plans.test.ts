import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIds } from '../src/ids.js';
import { type Core, createCore, SYSTEM_PRINCIPAL } from '../src/index.js';
import type { Storage } from '../src/storage/ports.js';
import { migrate } from '../src/storage/postgres/migrations.js';
import { createPgStorage } from '../src/storage/postgres/pg-storage.js';
import { numberEventsAtAppend } from '../src/storage/postgres/pglite-events.js';
import { withNamedStatements } from '../src/storage/postgres/pglite-statements.js';
import { newTask } from './fixtures/new-task.js';

interface PreparedStatement {
  statement: string;
  generic_plans: number;
  custom_plans: number;
}

/**
 * The plans PostgreSQL makes for the hot write paths' prepared statements, read from the
 * session's `pg_prepared_statements` (PGlite runs the same planner as the server, and the
 * same statement texts). A prepared statement is planned with its parameters' values five
 * times, then PostgreSQL keeps one generic plan, unless the generic plan looks dearer than
 * the custom ones: then it plans every call anew, which cost a document write a quarter of a
 * millisecond when `generate_series(1, $n)` made the generic plan look dear.
 */
describe('plans of the write paths (PGlite)', () => {
  let raw: PGlite;
  let storage: Storage;
  let core: Core;
  let statements: PreparedStatement[];

  beforeAll(async () => {
    raw = await PGlite.create();
    const db = drizzle(withNamedStatements(raw));
    await migrate(db);
    storage = createPgStorage(db, 'pglite', () => raw.close(), {
      eventsNumberedAtAppend: await numberEventsAtAppend(db),
    });
    core = createCore({
      storage,
      kv: { sweepIntervalMs: 0 },
      maintenance: { vacuumIntervalMs: 0 },
      tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
    });
    const ids = createIds();
    const change = { actor: 'system', ids };
    const now = new Date();
    const claim = {
      workerId: 'plans-worker',
      slotClass: 'normal' as const,
      limit: 1,
      types: ['plans.noop'],
      leaseExpiresAt: new Date(now.getTime() + 60_000),
      agedBefore: now,
    };
    let doc = await core.docs.set(SYSTEM_PRINCIPAL, 'projects/p1', { n: 0 });
    for (let n = 1; n <= 12; n++) {
      doc = await core.docs.set(SYSTEM_PRINCIPAL, 'projects/p1', { n }, { expect: { revision: doc.revision } });
      // A submit that an idle slot offered to take (the hand-off insert), then a claim round finding nothing.
      const [inserted] = await storage.tasks.insert([newTask(ids.next('task'), 'plans.noop', now)], now, now, change, {
        handoff: { claim, change },
      });
      expect(inserted?.task.status).toBe('running');
      expect(await storage.tasks.claim(claim, now, change)).toEqual([]);
      // A task submitted elsewhere, claimed by id (the named claim of an idle worker).
      const [pending] = await storage.tasks.insert([newTask(ids.next('task'), 'plans.other', now)], now, now, change);
      const taskId = pending?.task.id ?? '';
      const named = { ...claim, types: ['plans.other'], taskId };
      expect((await storage.tasks.claim(named, now, change)).map((task) => task.id)).toEqual([taskId]);
      await core.kv.upsert({ key: 'plans/k', value: { n } });
      await core.kv.get('plans/k');
      await core.events.publish(SYSTEM_PRINCIPAL, { type: 'custom.plans', data: { n } });
      await core.events.read(SYSTEM_PRINCIPAL, { topics: ['events:custom.*'], limit: 5 });
    }
    const { rows } = await raw.query<PreparedStatement>(
      'SELECT statement, generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE from_sql = false',
    );
    statements = rows;
  });
  afterAll(async () => {
    await core?.close();
  });

  /** Only the hand-off insert has this (its "claim it?" condition). */
  const HANDOFF_INSERT = 'x.concurrency_key IS NULL AND x.run_at';

  const find = (fragment: string): PreparedStatement => {
    const found = statements.find((s) => s.statement.includes(fragment));
    if (!found) throw new Error(`no prepared statement contains ${fragment}`);
    return found;
  };

  it('every statement run a dozen times settles on a generic plan instead of being planned on each call', () => {
    // The document write (its read and its persist), the hand-off insert and the claim; every
    // other statement the loop ran (key-value writes and reads, event publishes and reads) is
    // checked by the sweep below.
    for (const fragment of [
      "nextval('doc_revision_seq')",
      'INSERT INTO documents',
      HANDOFF_INSERT,
      'FOR UPDATE SKIP LOCKED',
      'WHERE t.id = $',
    ]) {
      expect(find(fragment).generic_plans, fragment).toBeGreaterThan(0);
    }
    const replanned = statements.filter((s) => s.custom_plans > 5 && s.generic_plans === 0);
    expect(replanned.map((s) => s.statement.replace(/\s+/g, ' ').slice(0, 120))).toEqual([]);
  });

  it('the document write reads history per path through its (path, ordinal) index, never by a scan', async () => {
    const [result] = await raw.exec(`EXPLAIN (GENERIC_PLAN, COSTS OFF) ${find('INSERT INTO documents').statement}`);
    const plan = (result?.rows ?? []).map((row) => (row as { 'QUERY PLAN': string })['QUERY PLAN']).join('\n');
    expect(plan).not.toMatch(/Seq Scan on document_history/);
    expect(plan.match(/document_history_ordinal_idx/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('the hand-off insert probes each priority once, not once per column that reads the outcome', async () => {
    // Simple protocol (exec): a statement with $n placeholders and no values bound, as GENERIC_PLAN needs.
    const [result] = await raw.exec(`EXPLAIN (GENERIC_PLAN, COSTS OFF) ${find(HANDOFF_INSERT).statement}`);
    const plan = (result?.rows ?? []).map((row) => (row as { 'QUERY PLAN': string })['QUERY PLAN']).join('\n');
    // A normal slot may take critical, normal and batch work: one probe of the claim index for each.
    expect(plan.match(/tasks_claim_type_idx/g)).toHaveLength(3);
  });

  it('the named claim reads its task by primary key, not the claim order', async () => {
    const [result] = await raw.exec(`EXPLAIN (GENERIC_PLAN, COSTS OFF) ${find('WHERE t.id = $').statement}`);
    const plan = (result?.rows ?? []).map((row) => (row as { 'QUERY PLAN': string })['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index Scan using tasks_pkey on tasks t/);
    expect(plan).not.toMatch(/Seq Scan on tasks|tasks_claim_type_idx/);
  });
});
