import { expect } from 'vitest';
import type { ErrorCode, ProServerError } from '../errors.js';
import type { Core } from '../index.js';
import type { BackendName } from './backends.js';
import type { ManualClock } from './manual-clock.js';

/** What every part of the key-value contract works with (the core exists once beforeAll ran). */
export interface KvContractContext {
  readonly backend: BackendName;
  readonly clock: ManualClock;
  readonly core: Core;
}

/**
 * Awaits `promise`, expects it to fail with a ProServerError of `code`, and returns the
 * error for further checks.
 *
 * @example
 * const error = await expectKvError(core.kv.get('missing'), 'NOT_FOUND');
 */
export async function expectKvError(promise: Promise<unknown>, code: ErrorCode): Promise<ProServerError> {
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await promise };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (outcome.ok) throw new Error(`expected ${code}, but it succeeded with ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toMatchObject({ name: 'ProServerError', code });
  return outcome.error as ProServerError;
}

/** Every key under `prefix` that `core.kv.list` returns, following every cursor. */
export async function listAllKeys(core: Core, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Core['kv']['list']>> = await core.kv.list({
      prefix,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    keys.push(...page.items.map((entry) => entry.key));
    cursor = page.nextCursor;
  } while (cursor);
  return keys;
}
