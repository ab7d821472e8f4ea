import type { Principal } from '../auth/types.js';
import type { ProServerEvent } from '../events/types.js';
import type { Core, CoreOptions } from '../index.js';
import type { BackendName } from './backends.js';
import type { ManualClock } from './manual-clock.js';

/** What every part of the event-log contract works with. */
export interface EventContractContext {
  readonly backend: BackendName;
  readonly clock: ManualClock;
  /** A core on a fresh storage of the backend (sweeper and purge loops off); closed after the suite. */
  startCore(options?: Omit<CoreOptions, 'storage' | 'clock'>): Promise<Core>;
  /** A prefix unique to this test, for keys and types. */
  unique(name: string): string;
}

export const SYSTEM: Principal = { kind: 'system' };

/** Every event matching `topics` after `after`, oldest first, as the system sees them (all pages). */
export async function eventsOf(core: Core, topics: string[], after = 0): Promise<ProServerEvent[]> {
  await core.events.flush();
  const out: ProServerEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await core.events.read(SYSTEM, { topics, after: cursor, limit: 1000 });
    out.push(...page.items);
    if (page.nextAfter === cursor) return out;
    cursor = page.nextAfter;
  }
}

/** The highest seq so far (after numbering this process's events). */
export async function lastSeq(core: Core): Promise<number> {
  await core.events.flush();
  return (await core.storage.events.bounds()).last;
}

/** Collects what a subscription delivers. */
export class Collector {
  readonly events: ProServerEvent[] = [];
  readonly handler = (event: ProServerEvent) => {
    this.events.push(event);
  };

  /** Waits (yielding to I/O) until `count` events arrived; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ProServerEvent[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.events.length < count) {
      if (performance.now() > deadline) {
        throw new Error(`expected ${count} events, got ${this.events.length}: ${this.types().join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return this.events;
  }

  types(): string[] {
    return this.events.map((event) => event.type);
  }

  seqs(): number[] {
    return this.events.map((event) => event.seq);
  }
}

/** Strictly increasing. */
export function isIncreasing(values: readonly number[]): boolean {
  return values.every((value, index) => index === 0 || value > (values[index - 1] as number));
}
