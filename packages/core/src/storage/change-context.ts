import { createIds } from '../ids.js';
import type { ChangeContext, NewEvent } from './ports.js';

/**
 * The context of a store write made without one (tests, maintenance): actor `system`, event
 * ids from a process-wide generator.
 *
 * @example
 * await store.deleteExpired(now, 100, SYSTEM_CHANGE);
 */
export const SYSTEM_CHANGE: ChangeContext = { actor: 'system', ids: createIds() };

/**
 * One event of a change, stamped with an id and the change's actor.
 *
 * @example
 * newEvent(change, 'kv.deleted', key, { key, version }, now);
 */
export function newEvent(
  change: ChangeContext,
  type: string,
  subject: string,
  data: NewEvent['data'],
  at: Date,
): NewEvent {
  return { id: change.ids.next('evt'), type, subject, data, actor: change.actor, at: new Date(at) };
}
