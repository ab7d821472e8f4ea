import type { DocCommitOptions, DocStoreWrite, DocWriteOutcome } from '../ports.js';
import type { BatchedCommit, BatchedCommitResult } from './doc-store-batch.js';
import { sqlStateOf } from './sql-helpers.js';

/** Writes per batch at most (the batch's statements carry them all). */
const MAX_BATCH_WRITES = 500;

export interface DocCommitBatchesOptions {
  /** Commits a batch in one transaction (commitDocBatch). */
  commitBatch: (commits: readonly BatchedCommit[]) => Promise<BatchedCommitResult[]>;
  /** Commits one commit in a transaction of its own, waiting for locks as needed (commitDocWrites). */
  commitAlone: (writes: readonly DocStoreWrite[], options: DocCommitOptions) => Promise<DocWriteOutcome[]>;
}

interface Waiting extends BatchedCommit {
  resolve: (outcomes: DocWriteOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for document writes: one batch transaction in flight at a time, and the
 * commits that arrive meanwhile go together in the next one (see doc-store-batch.ts). A lone
 * writer's commit goes at once, in a batch of one; ten concurrent writers share a transaction's
 * round trips, commit and disk sync instead of queueing for the CPU with one each (measured
 * in bench/README.md, "Documents").
 *
 * Commits with a recursive delete, and those whose path lock another transaction holds (the
 * batch answers `alone`), run on their own, concurrently with the batches. When a batch's
 * transaction fails as a whole (a deadlock, a statement one commit's data made fail), each of
 * its commits is run on its own, so one commit's failure is never another's.
 *
 * @example
 * const batches = new DocCommitBatches({ commitBatch: (c) => commitDocBatch(transact, c), commitAlone });
 * const outcomes = await batches.commit(writes, options);
 */
export class DocCommitBatches {
  private readonly waiting: Waiting[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly options: DocCommitBatchesOptions) {}

  commit(writes: readonly DocStoreWrite[], options: DocCommitOptions): Promise<DocWriteOutcome[]> {
    if (writes.some((write) => write.recursive)) return this.options.commitAlone(writes, options);
    return new Promise((resolve, reject) => {
      this.waiting.push({ writes, options, resolve, reject });
      this.running ??= this.run().finally(() => {
        this.running = undefined;
      });
    });
  }

  private async run(): Promise<void> {
    // Commits issued in the same turn of the event loop go in the first batch together.
    await null;
    while (this.waiting.length > 0) {
      const answer = await this.commitBatch(this.nextBatch());
      // With commits waiting, the next batch goes first: its statements reach PostgreSQL
      // before this batch's callers are answered (and write their HTTP responses), instead of
      // after. Ten connections writing, alternating runs: p99 median 11.35 -> 10.84 ms (seven
      // and nine runs; a small gain, about this machine's noise from one run to the next).
      if (this.waiting.length > 0) afterDriverFlush(answer);
      else answer();
    }
  }

  /** The oldest waiting commits, up to MAX_BATCH_WRITES writes, sharing the first one's history retention. */
  private nextBatch(): Waiting[] {
    const keep = this.waiting[0]?.options.maxHistoryVersions;
    let writes = 0;
    let count = 0;
    for (const commit of this.waiting) {
      if (commit.options.maxHistoryVersions !== keep) break;
      if (count > 0 && writes + commit.writes.length > MAX_BATCH_WRITES) break;
      writes += commit.writes.length;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  /** Commits a batch; answers how to answer its callers (run by the caller, see run()). */
  private async commitBatch(batch: Waiting[]): Promise<() => void> {
    let results: BatchedCommitResult[];
    try {
      results = await this.options.commitBatch(batch);
    } catch (error) {
      // Rolled back for sure (the server answered with an error): each commit on its own. A
      // lost connection may have lost the answer of a COMMIT that happened: not run again.
      if (rolledBack(error)) {
        return () => {
          for (const commit of batch) this.alone(commit);
        };
      }
      return () => {
        for (const commit of batch) commit.reject(error);
      };
    }
    return () =>
      batch.forEach((commit, index) => {
        const result = results[index];
        if (result?.kind === 'written') commit.resolve(result.outcomes);
        else if (result?.kind === 'failed') commit.reject(result.error);
        else this.alone(commit);
      });
  }

  /** Runs a commit on its own, without holding up the batches behind it. */
  private alone(commit: Waiting): void {
    this.options.commitAlone(commit.writes, commit.options).then(commit.resolve, commit.reject);
  }
}

/**
 * Runs `fn` in the turn of the event loop after the next one's check phase. The PostgreSQL
 * driver (postgres.js) sends a query under 1 KB from a `setImmediate`, so the statements the
 * next batch issues right after this call (BEGIN, its locks and its read) are sent before `fn`
 * runs.
 */
function afterDriverFlush(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}

/** The server reported an error (a SQLSTATE), so the transaction was rolled back. */
function rolledBack(error: unknown): boolean {
  return sqlStateOf(error) !== undefined;
}
