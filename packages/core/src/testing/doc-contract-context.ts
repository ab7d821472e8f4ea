import { expect } from 'vitest';
import { type Principal, SYSTEM_PRINCIPAL } from '../auth/types.js';
import type { DocChange, DocChangesOptions } from '../docs/types.js';
import type { ErrorCode, ProServerError } from '../errors.js';
import type { Core } from '../index.js';
import { MAX_PAGE_LIMIT } from '../pagination.js';
import type { BackendName } from './backends.js';
import type { ManualClock } from './manual-clock.js';

/** What every part of the document contract works with (the core exists once beforeAll ran). */
export interface DocContractContext {
  readonly backend: BackendName;
  readonly clock: ManualClock;
  readonly core: Core;
}

/** A token principal with these scopes (role member: docs are member work). */
export function docPrincipal(scopes: string[], tokenId = 'tok_doc_contract'): Principal {
  return { kind: 'token', tokenId, userId: 'usr_doc_contract', role: 'member', scopes };
}

/**
 * Awaits `promise`, expects a ProServerError of `code`, and returns it.
 *
 * @example
 * await expectDocError(core.docs.get(SYSTEM_PRINCIPAL, 'a/missing'), 'NOT_FOUND');
 */
export async function expectDocError(promise: Promise<unknown>, code: ErrorCode): Promise<ProServerError> {
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

/**
 * The change feed's current end: numbers every event appended so far (the event log's
 * sequencer, which the feed depends on), then pages to the last one. Changes made after this
 * call come after the returned position.
 *
 * @example
 * const start = await feedEnd(core);
 * await core.docs.set(SYSTEM_PRINCIPAL, 'a/1', {});
 * const { items } = await feedAfter(core, start);
 */
export async function feedEnd(core: Core): Promise<number> {
  await core.events.flush();
  let after = 0;
  for (;;) {
    // The first page without `after` (from the oldest retained change: events may have been purged).
    const page = await core.docs.changes(
      SYSTEM_PRINCIPAL,
      after === 0 ? { limit: MAX_PAGE_LIMIT } : { after, limit: MAX_PAGE_LIMIT },
    );
    if (page.items.length < MAX_PAGE_LIMIT) return page.nextAfter;
    after = page.nextAfter;
  }
}

/**
 * The change feed after `after`, once every event appended so far is numbered.
 *
 * @example
 * const { items, nextAfter } = await feedAfter(core, start, { collection: 'runs' });
 */
export async function feedAfter(
  core: Core,
  after: number,
  options: Omit<DocChangesOptions, 'after'> = {},
  actor: Principal = SYSTEM_PRINCIPAL,
): Promise<{ items: DocChange[]; nextAfter: number }> {
  await core.events.flush();
  return core.docs.changes(actor, { ...options, after });
}
