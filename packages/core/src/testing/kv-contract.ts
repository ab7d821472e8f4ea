/**
 * The key-value contract: the behaviour of `core.kv` (SPEC §6) that every storage backend
 * must give. One storage and one core per backend; every test works under its own key
 * prefix, so tests never see each other's entries.
 *
 * @example
 * import { describeKvContract, testBackendNames } from '@proserver/core/testing';
 * for (const backend of testBackendNames()) describeKvContract(backend);
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { type Core, createCore } from '../index.js';
import { type BackendName, createTestStorage } from './backends.js';
import type { KvContractContext } from './kv-contract-context.js';
import { describeKvExpiry } from './kv-contract-expiry.js';
import { describeKvImportExport } from './kv-contract-import-export.js';
import { describeKvLimits } from './kv-contract-limits.js';
import { describeKvListing } from './kv-contract-listing.js';
import { describeKvWrites } from './kv-contract-writes.js';
import { ManualClock } from './manual-clock.js';

/**
 * Registers the key-value contract suite for one backend (call it at the top level of a test file).
 *
 * @example
 * describeKvContract('pglite');
 */
export function describeKvContract(backend: BackendName): void {
  describe(`key-value contract on ${backend}`, () => {
    const clock = new ManualClock('2026-01-01T00:00:00.000Z');
    let core: Core | undefined;

    beforeAll(async () => {
      const storage = await createTestStorage(backend);
      core = createCore({ storage, clock, kv: { sweepIntervalMs: 0 } });
    });

    afterAll(async () => {
      await core?.close();
    });

    const context: KvContractContext = {
      backend,
      clock,
      get core() {
        if (!core) throw new Error('the key-value contract core is not started (beforeAll failed?)');
        return core;
      },
    };

    describeKvWrites(context);
    describeKvExpiry(context);
    describeKvListing(context);
    describeKvImportExport(context);
    describeKvLimits(context);
  });
}
