import type { Clock } from '../clock.js';
import type { ChangeContext, ClaimedTask, TaskOutcome, TaskStore } from '../storage/ports.js';
import type { TaskEventEmitter } from './events.js';
import type { TaskAbortReason } from './task-error.js';

/** An attempt's outcome waiting to be written, with what its events need. */
export interface PendingOutcome {
  outcome: TaskOutcome;
  record: ClaimedTask;
  reason: TaskAbortReason | null;
}

export interface OutcomeWriterOptions {
  store: TaskStore;
  clock: Clock;
  events: TaskEventEmitter;
  workerId: string;
  change: ChangeContext;
  /** After a write: `true` when it may have unblocked a concurrency key (wake critical claims too). */
  onWritten: (unblocksKey: boolean) => void;
}

/** Outcomes written per statement. */
const FINISH_BATCH = 500;

/**
 * Writes attempt outcomes in batches with one writer at a time: while its statement is in
 * flight the next outcomes gather and go in the following one, so a busy worker writes
 * hundreds per statement (each statement is a commit: fewer, larger ones drain fastest; a
 * second concurrent writer measured no faster) and an idle one writes at once. Emits the
 * outcome's local event once the write succeeded.
 *
 * @example
 * const writer = new OutcomeWriter({ store, clock, events, workerId, change, onWritten: () => worker.wake() });
 * writer.enqueue({ outcome, record, reason: null });
 * await writer.drain();
 */
export class OutcomeWriter {
  private readonly waiting: PendingOutcome[] = [];
  private writing: Promise<void> | undefined;
  private unblocksKey = false;

  constructor(private readonly options: OutcomeWriterOptions) {}

  enqueue(entry: PendingOutcome): void {
    this.waiting.push(entry);
    this.writing ??= this.flush().finally(() => {
      this.writing = undefined;
      this.options.onWritten(this.unblocksKey);
      this.unblocksKey = false;
    });
  }

  /** Resolves once every outcome enqueued so far was written (or given up on). */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flush(): Promise<void> {
    const { store, clock, events, workerId, change } = this.options;
    let failures = 0;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, FINISH_BATCH);
      if (batch.some((b) => b.record.concurrencyKey !== null)) this.unblocksKey = true;
      try {
        const outcomes = batch.map((b) => b.outcome);
        const written = await store.finish(workerId, outcomes, clock.now(), change);
        failures = 0;
        const byId = new Map(batch.map((b) => [b.outcome.id, b]));
        for (const { id, status } of written) {
          const entry = byId.get(id);
          if (entry) this.report(entry, status);
        }
      } catch (error) {
        events.emit('error', { where: 'task finish', error });
        // After a few failed writes give up: the leases expire and the reaper re-queues the tasks.
        if (++failures >= 5) continue;
        this.waiting.unshift(...batch);
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** failures));
      }
    }
  }

  private report({ record, outcome, reason }: PendingOutcome, status: string): void {
    const { events } = this.options;
    const { id, type } = record;
    if (status === 'completed') events.emit('task.completed', { id, type });
    else if (status === 'failed') events.emit('task.failed', { id, type, error: outcome.error });
    else if (status === 'cancelled') events.emit('task.cancelled', { id, type });
    else if (outcome.release) events.emit('task.released', { id, type, reason: reason ?? 'shutdown' });
    else events.emit('task.retrying', { id, type, attempt: record.attempt, error: outcome.error });
  }
}
