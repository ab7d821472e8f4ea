import { randomBytes } from 'node:crypto';
import { afterAll, describe } from 'vitest';
import { type Core, createCore } from '../index.js';
import { type BackendName, createTestStorage } from './backends.js';
import type { EventContractContext } from './event-contract-context.js';
import { eventDomainContract } from './event-contract-domain.js';
import { eventSubscribeContract } from './event-contract-subscribe.js';
import { ManualClock } from './manual-clock.js';

/**
 * The event log contract (SPEC §4), run on one backend: every domain change appends exactly
 * its events (and a refused or rolled-back change none), topics and scopes filter what a
 * principal reads, and subscriptions replay, continue live without gaps or duplicates, and
 * end when their token stops being valid.
 *
 * @example
 * for (const backend of testBackendNames()) describeEventContract(backend);
 */
export function describeEventContract(backend: BackendName): void {
  describe(`event log contract on ${backend}`, () => {
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    const cores: Core[] = [];
    let counter = 0;
    const ctx: EventContractContext = {
      backend,
      clock,
      async startCore(options = {}) {
        const core = createCore({
          ...options,
          storage: await createTestStorage(backend),
          clock,
          kv: { sweepIntervalMs: 0, ...options.kv },
          events: { purgeIntervalMs: 0, pollIntervalMs: 200, ...options.events },
        });
        cores.push(core);
        return core;
      },
      unique: (name) => `${name}-${++counter}-${randomBytes(3).toString('hex')}`,
    };
    afterAll(async () => {
      await Promise.all(cores.map((core) => core.close()));
    });
    eventDomainContract(ctx);
    eventSubscribeContract(ctx);
  });
}
