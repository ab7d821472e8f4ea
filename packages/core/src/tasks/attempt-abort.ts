import { TaskAbortError, type TaskAbortReason } from './task-error.js';

/**
 * How an attempt is aborted (cancel, timeout, preemption, shutdown, lost lease), with the
 * handler's `AbortSignal` made only when the handler asks for it: an AbortController per
 * attempt was ~5 % of a busy worker's CPU, and most short handlers never look at their signal.
 * Once made, the signal follows: aborted at once if the attempt already was, later otherwise,
 * with a {@link TaskAbortError} as its `reason`.
 *
 * @example
 * const abort = new AttemptAbort();
 * abort.abort('preempted');
 * abort.reason; // 'preempted'
 * abort.signal.aborted; // true
 */
export class AttemptAbort {
  private controller: AbortController | undefined;
  private why: TaskAbortReason | null = null;

  /** Why the attempt was aborted (the first reason wins), or null while it was not. */
  get reason(): TaskAbortReason | null {
    return this.why;
  }

  get aborted(): boolean {
    return this.why !== null;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.why !== null) this.controller.abort(new TaskAbortError(this.why));
    }
    return this.controller.signal;
  }

  abort(reason: TaskAbortReason): void {
    if (this.why !== null) return;
    this.why = reason;
    this.controller?.abort(new TaskAbortError(reason));
  }
}
