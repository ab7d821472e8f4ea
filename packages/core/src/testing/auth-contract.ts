/**
 * The contract every storage backend must pass for application tokens and bootstrap,
 * exercised through the services (`core.tokens`, `core.auth`) as an embedding app would.
 * Bootstrap is per database, so tests that need an empty database get their own storage;
 * the others share one bootstrapped storage and never depend on each other's order.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { Principal } from '../auth/types.js';
import type { Core } from '../index.js';
import { describeAuthBootstrap } from './auth-contract-bootstrap.js';
import { type AuthTokensContext, newCore } from './auth-contract-context.js';
import { registerTokenLifecycleTests } from './auth-contract-token-lifecycle.js';
import { registerTokenScopeTests } from './auth-contract-token-scopes.js';
import { type BackendName, createTestStorage } from './backends.js';
import { ManualClock } from './manual-clock.js';

/** Registers the application-token and bootstrap contract for one backend. */
export function describeAuthContract(backend: BackendName): void {
  describeAuthBootstrap(backend);

  describe(`auth contract on ${backend}: application tokens`, () => {
    let core: Core;
    let clock: ManualClock;
    let owner: Principal;
    let ownerId: string;

    beforeAll(async () => {
      clock = new ManualClock();
      core = newCore(await createTestStorage(backend), clock);
      const boot = await core.auth.bootstrap();
      ownerId = boot.owner.id;
      owner = await core.auth.authenticate(boot.secret as string);
    });
    afterAll(async () => {
      await core.close();
    });

    const mint = (actor: Principal, scopes: string[], expiresInDays = 30) =>
      core.tokens.create(actor, { name: 'test', expiresInDays, scopes });
    const tokenCount = async () => (await core.storage.auth.listTokens({ limit: 1000 })).length;

    const context: AuthTokensContext = {
      get core() {
        return core;
      },
      get clock() {
        return clock;
      },
      get owner() {
        return owner;
      },
      get ownerId() {
        return ownerId;
      },
      mint,
      tokenCount,
    };

    registerTokenLifecycleTests(context);
    registerTokenScopeTests(context);
  });
}
