/**
 * Several independent document commits in ONE transaction (see DocCommitBatches): the same
 * statements as a single commit (doc-store-commit.ts), each carrying every commit's writes,
 * so a batch costs the round trips, the commit and the disk sync of one. Each commit stays
 * all or nothing on its own: they are planned one after the other over the state the earlier
 * ones left, and one whose plan fails (a precondition, a patch test) is answered with its
 * error while the others are written.
 *
 * A batch never waits for another writer's path lock: it only tries the locks, and a commit
 * whose paths are not all granted is left out, answered `alone` (its caller runs it on its
 * own, waiting as a single commit does), so writers of documents another transaction holds
 * never delay the rest of the batch.
 */
import { sql } from 'drizzle-orm';
import { materialize, planCommit } from '../../docs/commit-plan.js';
import type { DocCommitOptions, DocStoreWrite, DocWriteOutcome, NewEvent } from '../ports.js';
import {
  DOC_PATH_LOCK_NAMESPACE,
  GRANTED_PATH_LOCKS,
  pathLockKey,
  readTargets,
  writeStatement,
} from './doc-store-commit.js';
import { jsonb, rowsOf } from './sql-helpers.js';
import type { Transact } from './transactions.js';

/** One commit of a batch: the writes and options `DocStore.commit` was given. */
export interface BatchedCommit {
  writes: readonly DocStoreWrite[];
  options: DocCommitOptions;
}

/** What became of one commit of a batch. */
export type BatchedCommitResult =
  | { kind: 'written'; outcomes: DocWriteOutcome[] }
  | { kind: 'failed'; error: unknown }
  /** A path lock was held by another transaction: commit it on its own. */
  | { kind: 'alone' };

/**
 * Commits `commits` (none with a recursive delete: those read and lock whole subtrees and go
 * alone) in one transaction, answering each one's result in order. All must share
 * `maxHistoryVersions`. Throws when the transaction itself fails (then nothing is written).
 */
export async function commitDocBatch(
  transact: Transact,
  commits: readonly BatchedCommit[],
): Promise<BatchedCommitResult[]> {
  const writes = commits.flatMap((commit) => commit.writes);
  const keyOf = new Map(writes.map((write) => [write.target.path, pathLockKey(write.target.path)]));
  return transact(async (tx) => {
    // Sent together with BEGIN and the read (see commitOnce): the locks granted are kept in a
    // transaction-local setting, which the read, run after it, uses to read and lock only the
    // documents this transaction may write.
    const locking = tx.execute(sql`
      SELECT set_config(${GRANTED_PATH_LOCKS}, coalesce(array_agg(k.key) FILTER (WHERE k.granted), '{}')::text, true)
             AS granted
      FROM (SELECT t.key::int AS key, pg_try_advisory_xact_lock(${DOC_PATH_LOCK_NAMESPACE}::int, t.key::int) AS granted
            FROM jsonb_array_elements_text(${jsonb([...new Set(keyOf.values())])}) AS t(key)) k`);
    const [lockRows, { current, revisions }] = await Promise.all([locking, readTargets(tx, writes, keyOf)]);
    const granted = grantedKeys(rowsOf<{ granted: string }>(lockRows)[0]?.granted);
    const results: BatchedCommitResult[] = [];
    const changes: ReturnType<typeof materialize>['changes'] = [];
    const events: NewEvent[] = [];
    for (const { writes: own, options } of commits) {
      if (!own.every((write) => granted.has(keyOf.get(write.target.path) as number))) {
        results.push({ kind: 'alone' });
        continue;
      }
      let plan: ReturnType<typeof planCommit>;
      try {
        plan = planCommit(
          own,
          { get: (path) => current.get(path) ?? null, subtree: () => [] },
          options.now,
          options.change.actor ?? 'system',
        );
      } catch (error) {
        results.push({ kind: 'failed', error });
        continue;
      }
      // Revisions are handed out in commit order, so a later commit's are higher. The read took
      // one per write, and a commit without a recursive delete changes at most one document per write.
      const written = materialize(plan, revisions.splice(0, plan.count), options.change, options.now);
      // The next commits see this one's documents.
      for (const change of written.changes) {
        if (change.record) current.set(change.history.path, change.record);
        else current.delete(change.history.path);
      }
      changes.push(...written.changes);
      events.push(...written.events);
      results.push({ kind: 'written', outcomes: written.outcomes });
    }
    const write = writeStatement(changes, events, commits[0]?.options.maxHistoryVersions ?? null);
    if (write) await tx.commitWith(write);
    return results;
  });
}

/** The keys of the lock statement's answer (`{1,-2}`, PostgreSQL's text form of an int array). */
function grantedKeys(text: string | undefined): Set<number> {
  const inner = (text ?? '{}').slice(1, -1);
  return new Set(inner === '' ? [] : inner.split(',').map(Number));
}
