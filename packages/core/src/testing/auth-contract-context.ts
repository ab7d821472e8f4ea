import type { Principal } from '../auth/types.js';
import { type Core, createCore } from '../index.js';
import type { Storage } from '../storage/ports.js';
import type { ManualClock } from './manual-clock.js';

export const DAY_MS = 24 * 3600 * 1000;

/** The error code a promise rejects with (`'no error'` when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return 'no error';
}

/** A core as the auth contract runs it: no KV sweeper, tokens valid up to 400 days. */
export function newCore(storage: Storage, clock: ManualClock): Core {
  return createCore({ storage, clock, kv: { sweepIntervalMs: 0 }, tokens: { maxExpiryDays: 400 } });
}

/**
 * What the application-token tests work with: one bootstrapped storage they share (it exists
 * once beforeAll ran), and the helpers over it.
 */
export interface AuthTokensContext {
  readonly core: Core;
  readonly clock: ManualClock;
  /** The owner, authenticated with the bootstrap token. */
  readonly owner: Principal;
  readonly ownerId: string;
  /** Creates a token named `test` for `actor` through `core.tokens`. */
  mint(actor: Principal, scopes: string[], expiresInDays?: number): ReturnType<Core['tokens']['create']>;
  /** How many tokens the store holds. */
  tokenCount(): Promise<number>;
}
