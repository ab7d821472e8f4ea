/**
 * `@proserver/core/testing`: what integrators and our own suites use to test against every
 * backend: a manual clock, test storages, and the contract suites that every storage
 * implementation must pass.
 *
 * @example
 * import { describeKvContract, testBackendNames } from '@proserver/core/testing';
 * for (const backend of testBackendNames()) describeKvContract(backend);
 */

export { describeAuthContract } from './auth-contract.js';
export {
  type BackendName,
  createTestStorage,
  PGLITE_TEMPLATE_ENV,
  testBackendNames,
  writePgliteTemplate,
} from './backends.js';
export { describeDocContract } from './doc-contract.js';
export { type DocContractContext, docPrincipal, expectDocError } from './doc-contract-context.js';
export { describeEventContract } from './event-contract.js';
export { Collector, eventsOf, isIncreasing, lastSeq } from './event-contract-context.js';
export { describeKvContract } from './kv-contract.js';
export { ManualClock } from './manual-clock.js';
export { describeTaskContract, type TaskContractPart } from './task-contract.js';
export {
  expectTaskError,
  Latch,
  type TaskContractContext,
  tokenPrincipal,
  waitForTask,
  waitUntil,
} from './task-contract-context.js';
