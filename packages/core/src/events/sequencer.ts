import type { Logger } from '../logger.js';
import type { EventStore, Notifier, SequenceResult } from '../storage/ports.js';
import { EVENTS_CHANNEL } from './channels.js';

export interface SequencerOptions {
  store: EventStore;
  notifier: Notifier;
  logger: Logger;
  /** The periodic pass, which numbers events whose wake-up was lost (another node's, a crash). */
  intervalMs: number;
  /** Called after a pass numbered events (this node's tailer reads them at once). */
  onSequenced: (lastSeq: number) => void;
  /**
   * A background pass starts at least this long after the previous one started (0: at once).
   * Under a stream of writes one pass then numbers the events of several; a lone write's
   * pass still starts at once.
   */
  minPassIntervalMs: number;
  /** Monotonic milliseconds and a wait of `ms` (tests replace them); default performance.now() and a timer. */
  now?: () => number;
  wait?: (ms: number) => Promise<void>;
}

/** After a pass found another node's pass running, try again this soon. */
const BUSY_RETRY_MS = 20;

/**
 * Numbers committed events (see PgEventStore for why numbering happens after commit) and
 * announces them on {@link EVENTS_CHANNEL}. Passes run one at a time in this process and are
 * coalesced: a wake-up during a pass makes one more pass, never a queue of them, and a pass
 * starts no sooner than `minPassIntervalMs` after the previous one started (each pass is a
 * transaction with its commit and notification: under a stream of document writes, one pass
 * per write cost a fifth of the machine's CPU per write; see docs/events.md). Woken after
 * every local write that appended events, and every `intervalMs` for everything else (events
 * appended by other nodes whose own pass failed, or by writers that do not wake it). On the
 * memory backend events are numbered at append and a pass does nothing.
 *
 * @example
 * const sequencer = new EventSequencer({ store, notifier, logger, intervalMs: 250, minPassIntervalMs: 5,
 *   onSequenced: (seq) => tailer.wake(seq) });
 * sequencer.start();
 * sequencer.wake();
 */
export class EventSequencer {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** The sequenceNow pass not started yet (callers join it), and the one under way. */
  private queuedNow: Promise<void> | undefined;
  private currentNow: Promise<void> | undefined;
  /** Whether a caller of the queued pass appended events just before it (see sequenceNow). */
  private queuedAppended = false;
  /** Whether a wake-up since the last background pass came from a write that appended events. */
  private wokenByAppend = false;
  /** When the last background pass started (`now()`). */
  private lastPassAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SequencerOptions) {}

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => this.wake(), this.options.intervalMs);
    this.timer.unref?.();
  }

  /**
   * Requests a pass (soon, coalesced with any pass running or requested). `appended`: the
   * caller has just committed events, so the pass skips its "anything pending?" probe (a round
   * trip of its own; a pass that finds nothing costs about as much).
   */
  wake({ appended = false }: { appended?: boolean } = {}): void {
    if (this.stopped) return;
    if (appended) this.wokenByAppend = true;
    this.again = true;
    this.running ??= this.run();
  }

  /**
   * Resolves once every event committed before the call is numbered: it joins the next pass
   * that has not started yet, or queues one behind the pass under way (which may have taken its
   * snapshot before the caller's events committed). So concurrent callers (a node publishing a
   * thousand events a second, pollers) share passes instead of queueing one pass each behind
   * the sequencer's lock. A pass waits for another node's pass if needed.
   */
  sequenceNow({ appended = false }: { appended?: boolean } = {}): Promise<void> {
    // A caller that has just appended knows there is something to number: the pass skips its probe.
    if (appended) this.queuedAppended = true;
    this.queuedNow ??= this.passAfter(this.currentNow);
    return this.queuedNow;
  }

  private async passAfter(previous: Promise<void> | undefined): Promise<void> {
    // Always yields once, so `queuedNow` holds this pass below. The previous pass's failure is
    // its own callers' to see.
    await previous?.catch(() => undefined);
    // From here on a caller's events may not be in this pass's snapshot: later callers queue another.
    const pass = this.queuedNow as Promise<void>;
    const likelyPending = this.queuedAppended;
    this.queuedNow = undefined;
    this.queuedAppended = false;
    this.currentNow = pass;
    try {
      const result = await this.options.store.sequencePending({ wait: true, likelyPending });
      if (result.lastSeq !== null) await this.announce(result.lastSeq, result.announced);
    } finally {
      if (this.currentNow === pass) this.currentNow = undefined;
    }
  }

  /** Events numbered outside this sequencer's passes (`EventStore.appendNumbered`): announced as a pass's. */
  async numbered({ lastSeq, announced }: Omit<SequenceResult, 'busy'>): Promise<void> {
    if (lastSeq !== null) await this.announce(lastSeq, announced);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    await this.running;
  }

  private async run(): Promise<void> {
    try {
      let numbered = false;
      while (this.again && !this.stopped) {
        await this.spacing();
        if (this.stopped) break;
        this.again = false;
        // Woken by a write that appended, or again right after numbering events (more writes
        // came: under load the usual case): events are most likely pending.
        const likelyPending = numbered || this.wokenByAppend;
        this.wokenByAppend = false;
        const { lastSeq, busy, announced } = await this.options.store.sequencePending({ likelyPending });
        numbered = lastSeq !== null;
        if (lastSeq !== null) await this.announce(lastSeq, announced);
        if (busy) this.retrySoon();
      }
    } catch (error) {
      // The periodic pass tries again.
      this.options.logger.error('event sequencer pass failed', { error: String(error) });
    } finally {
      this.running = undefined;
    }
  }

  /** Waits until `minPassIntervalMs` after the previous pass's start (wake-ups meanwhile join the pass). */
  private async spacing(): Promise<void> {
    const now = this.options.now ?? (() => performance.now());
    const ms = this.lastPassAt + this.options.minPassIntervalMs - now();
    if (ms > 0) await (this.options.wait ?? sleep)(ms);
    this.lastPassAt = now();
  }

  /**
   * Another node's pass held the lock; it may have started before our events committed:
   * look again shortly rather than at the next tick.
   */
  private retrySoon(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.wake();
    }, BUSY_RETRY_MS);
    this.retry.unref?.();
  }

  /** This process's tailer reads at once; the other nodes' hear it (unless the store told them already). */
  private async announce(lastSeq: number, announced: boolean): Promise<void> {
    this.options.onSequenced(lastSeq);
    if (!announced) await this.options.notifier.publish(EVENTS_CHANNEL, String(lastSeq));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
