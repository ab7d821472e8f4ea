/**
 * The task contract: the behaviour of `core.tasks` (SPEC §3) that every storage backend must
 * give. Each test starts its own core(s) with its own task types on the backend's shared
 * storage (or a fresh storage when it needs an empty queue), and a shared manual clock that
 * only moves forward.
 *
 * @example
 * import { describeTaskContract, testBackendNames } from '@proserver/core/testing';
 * for (const backend of testBackendNames()) describeTaskContract(backend);
 */
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { type Core, createCore } from '../index.js';
import type { Storage } from '../storage/ports.js';
import { type BackendName, createTestStorage } from './backends.js';
import { ManualClock } from './manual-clock.js';
import { sharedStorage, type TaskContractContext } from './task-contract-context.js';
import { describeTaskHandoff } from './task-contract-handoff.js';
import { describeTaskInput } from './task-contract-input.js';
import { describeTaskLifecycle } from './task-contract-lifecycle.js';
import { describeTaskMisc } from './task-contract-misc.js';
import { describeTaskPriorities } from './task-contract-priorities.js';
import { describeTaskRetries } from './task-contract-retries.js';
import { describeTaskSchedules } from './task-contract-schedules.js';

/** Which parts of the contract to register (all by default), so a backend's suite can be split across files. */
export type TaskContractPart = 'lifecycle' | 'input' | 'retries' | 'priorities' | 'schedules' | 'misc' | 'handoff';

const PARTS: Record<TaskContractPart, (ctx: TaskContractContext) => void> = {
  lifecycle: describeTaskLifecycle,
  input: describeTaskInput,
  retries: describeTaskRetries,
  priorities: describeTaskPriorities,
  schedules: describeTaskSchedules,
  misc: describeTaskMisc,
  handoff: describeTaskHandoff,
};

/**
 * Registers the task contract suite for one backend (call it at the top level of a test file).
 *
 * @example
 * describeTaskContract('pglite', ['lifecycle', 'retries']);
 */
export function describeTaskContract(
  backend: BackendName,
  parts: readonly TaskContractPart[] = Object.keys(PARTS) as TaskContractPart[],
): void {
  describe(`task contract on ${backend}`, () => {
    const clock = new ManualClock('2026-01-05T10:00:00.000Z');
    let storage: Storage | undefined;
    const cores: Core[] = [];
    const fresh: Storage[] = [];
    let typeCounter = 0;

    beforeAll(async () => {
      storage = await createTestStorage(backend);
    });

    afterEach(async () => {
      await Promise.all(cores.splice(0).map((core) => core.close()));
      await Promise.all(fresh.splice(0).map((s) => s.close()));
    });

    afterAll(async () => {
      await storage?.close();
    });

    const context: TaskContractContext = {
      backend,
      clock,
      async startCore(options = {}) {
        if (!storage) throw new Error('the task contract storage is not started (beforeAll failed?)');
        let base = storage;
        if (options.freshStorage) {
          base = await createTestStorage(backend);
          fresh.push(base);
        }
        const core = createCore({
          storage: sharedStorage(base),
          clock,
          kv: { sweepIntervalMs: 0 },
          tasks: {
            pollIntervalMs: 60_000,
            reaperIntervalMs: 0,
            schedulerIntervalMs: 0,
            purgeIntervalMs: 0,
            ...options.tasks,
          },
        });
        cores.push(core);
        return core;
      },
      uniqueType(name) {
        typeCounter++;
        return `t${typeCounter}.${name}`;
      },
    };

    for (const part of parts) PARTS[part](context);
  });
}
