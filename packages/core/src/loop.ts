import type { Logger } from './logger.js';

export interface BackgroundLoop {
  /** Stops the loop and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export interface LoopOptions {
  name: string;
  intervalMs: number;
  /** One pass. May throw: the loop logs it, backs off with jitter and goes on. */
  run: () => Promise<void>;
  logger: Logger;
  /** Longest back-off after repeated failures (default 30 s). */
  maxBackoffMs?: number;
}

/**
 * Runs `run` every `intervalMs` until stopped. It never throws out of the loop: a failing pass
 * is logged and the next one waits longer (exponential back-off with full jitter).
 *
 * @example
 * const sweeper = startLoop({ name: 'kv-sweeper', intervalMs: 30_000, run: sweep, logger });
 * await sweeper.stop();
 */
export function startLoop(options: LoopOptions): BackgroundLoop {
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  const schedule = () => {
    if (stopped) return;
    const backoff = failures === 0 ? 0 : Math.random() * Math.min(options.maxBackoffMs ?? 30_000, 1000 * 2 ** failures);
    timer = setTimeout(tick, options.intervalMs + backoff);
    timer.unref?.();
  };
  const tick = () => {
    current = options.run().then(
      () => {
        failures = 0;
      },
      (error: unknown) => {
        failures++;
        options.logger.error(`${options.name} failed`, { error: String(error), failures });
      },
    );
    void current.then(schedule);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
