/**
 * Serialising an event once, however many subscribers receive it. Core hands the same event
 * object to every subscription of a node, so with 1,000 subscribers the JSON of an event is
 * built once instead of 1,000 times (the cost that dominates fan-out).
 */
import type { ProServerEvent } from '@proserver/core';

const cache = new WeakMap<ProServerEvent, string>();

/**
 * `JSON.stringify(event)`, remembered for as long as the event object lives.
 *
 * @example
 * const text = `{"type":"event","id":"a","seq":${event.seq},"event":${eventJson(event)}}`;
 */
export function eventJson(event: ProServerEvent): string {
  let json = cache.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    cache.set(event, json);
  }
  return json;
}

/**
 * The WebSocket `event` message for subscription `id`: `{type, id, seq, event}`.
 *
 * @example
 * socket.send(eventMessage('builds', event));
 */
export function eventMessage(id: string | number, event: ProServerEvent): string {
  return `{"type":"event","id":${JSON.stringify(id)},"seq":${event.seq},"event":${eventJson(event)}}`;
}
