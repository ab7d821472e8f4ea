/**
 * The document-store contract: the behaviour of `core.docs` (SPEC §5) that every storage
 * backend must give, identically. One storage and one core per backend; every test works
 * under its own root collection, so tests never see each other's documents.
 *
 * @example
 * import { describeDocContract, testBackendNames } from '@proserver/core/testing';
 * for (const backend of testBackendNames()) describeDocContract(backend);
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { type Core, createCore } from '../index.js';
import { type BackendName, createTestStorage } from './backends.js';
import { describeDocBadInput } from './doc-contract-bad-input.js';
import type { DocContractContext } from './doc-contract-context.js';
import { describeDocFeeds } from './doc-contract-feeds.js';
import { describeDocQueries } from './doc-contract-queries.js';
import { describeDocScopes } from './doc-contract-scopes.js';
import { describeDocWrites } from './doc-contract-writes.js';
import { ManualClock } from './manual-clock.js';

/**
 * Registers the document contract suite for one backend (call it at the top level of a test file).
 *
 * @example
 * describeDocContract('pglite');
 */
export function describeDocContract(backend: BackendName): void {
  describe(`document contract on ${backend}`, () => {
    const clock = new ManualClock('2026-01-01T00:00:00.000Z');
    let core: Core | undefined;

    beforeAll(async () => {
      const storage = await createTestStorage(backend);
      core = createCore({
        storage,
        clock,
        kv: { sweepIntervalMs: 0 },
        tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
        docs: {
          maxDocumentBytes: 64 * 1024,
          historyRetention: { maxVersions: 5, maxAgeDays: 30 },
          historyPruneIntervalMs: 0,
        },
      });
    });

    afterAll(async () => {
      await core?.close();
    });

    const context: DocContractContext = {
      backend,
      clock,
      get core() {
        if (!core) throw new Error('the document contract core is not started (beforeAll failed?)');
        return core;
      },
    };

    describeDocWrites(context);
    describeDocQueries(context);
    describeDocScopes(context);
    describeDocFeeds(context);
    describeDocBadInput(context);
  });
}
