import type { ClaimedTask, TaskOutcome } from '../storage/ports.js';

/** Window over which a slot class's turnover is counted. */
const WINDOW_MS = 100;
/** At most this many tasks per slot are held claimed ahead. */
const AHEAD_PER_SLOT = 20;

/**
 * How many tasks one slot class may hold claimed but not yet started (its local queue), so
 * that short tasks do not wait for a claim round trip each time a slot frees.
 *
 * The size follows the class's own turnover: as many tasks as it finished in about the last
 * 100 ms, once that is at least twice its slots (tasks shorter than ~50 ms), up to 20 per slot.
 * So a queue holds about 100 ms of work: a task claimed ahead starts within that time, and
 * fairness between submitters, aging and priority order are off by at most that much. Slower
 * tasks (and every test with tasks gated by hand) never claim ahead: each slot claims when it
 * frees, as without a local queue. Critical work never waits behind a local queue (the worker
 * claims critical tasks first while a critical wake-up is pending).
 *
 * The clock here is the process's monotonic one on purpose: this is a throughput estimate,
 * not a business time.
 *
 * @example
 * const ahead = new ClaimAhead(24);
 * ahead.finished(); // on every task end of the class
 * const limit = freeSlots + ahead.size() - queued.length;
 */
export class ClaimAhead {
  private count = 0;
  private previous = 0;
  private windowStart = performance.now();

  constructor(private readonly slots: number) {}

  /** A task of this class finished (its slot is free again). */
  finished(): void {
    this.roll();
    this.count++;
  }

  /** Tasks to hold claimed beyond the free slots. */
  size(): number {
    this.roll();
    const turnover = Math.max(this.previous, this.count);
    return turnover < 2 * this.slots ? 0 : Math.min(turnover, AHEAD_PER_SLOT * this.slots);
  }

  private roll(): void {
    const now = performance.now();
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    // A gap longer than a window means nothing finished in the last one.
    this.previous = elapsed < 2 * WINDOW_MS ? this.count : 0;
    this.count = 0;
    this.windowStart = now;
  }
}

/**
 * The outcome that gives a claimed task back without spending its attempt (it never started
 * here): the same write as a preemption's. A cancel request meanwhile turns it into `cancelled`.
 */
export function releaseOutcome(record: ClaimedTask): TaskOutcome {
  return {
    id: record.id,
    attempt: record.attempt,
    status: 'pending',
    release: true,
    result: null,
    error: null,
    runAt: null,
    progress: null,
    stage: null,
    stages: [],
  };
}
