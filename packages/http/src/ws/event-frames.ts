/**
 * Pre-built WebSocket frames for event messages. An event goes to every subscriber of a node
 * with the same bytes (the message differs only by subscription id, and clients mostly use a
 * few ids), so the frame — header and payload — is built once per event and id, and each
 * socket only writes it. Server frames are never masked (RFC 6455 §5.1), which is what makes
 * one frame valid on every socket.
 */
import type { ProServerEvent } from '@proserver/core';
import type { SubscriptionId } from './client-messages.js';
import { eventMessage } from './event-json.js';

export interface EventFrame {
  /** The whole frame: header, then payload. */
  frame: Buffer;
  /** The payload alone (a view into `frame`): the message's UTF-8 JSON. */
  payload: Buffer;
}

const cache = new WeakMap<ProServerEvent, Map<SubscriptionId, EventFrame>>();

/**
 * The frame of `{type:"event", id, seq, event}`, remembered for as long as the event object
 * lives (core hands all of a node's subscriptions the same object).
 *
 * @example
 * rawSocket.write(eventFrame('builds', event).frame);
 */
export function eventFrame(id: SubscriptionId, event: ProServerEvent): EventFrame {
  return remembered(cache, event, id, () => textFrame(Buffer.from(eventMessage(id, event))));
}

/** Several event frames, in order, and their bytes joined (one socket write for all of them). */
export interface EventFrames {
  frames: readonly EventFrame[];
  bytes: Buffer;
}

const batches = new WeakMap<readonly ProServerEvent[], Map<SubscriptionId, EventFrames>>();

/**
 * The frames of `events` for subscription `id`, joined, remembered for as long as the array
 * lives: core hands the same array to every subscription that sees the same events, so with
 * 1,000 subscribers of one topic the bytes are joined once per dispatch, not once per socket.
 *
 * @example
 * stream.write(eventFrames('builds', events).bytes);
 */
export function eventFrames(id: SubscriptionId, events: readonly ProServerEvent[]): EventFrames {
  return remembered(batches, events, id, () => {
    const frames = events.map((event) => eventFrame(id, event));
    const bytes = frames.length === 1 ? (frames[0] as EventFrame).frame : Buffer.concat(frames.map((f) => f.frame));
    return { frames, bytes };
  });
}

/** What `build` made for `key` and `id`, made once and kept for as long as `key` lives. */
function remembered<K extends object, V>(
  store: WeakMap<K, Map<SubscriptionId, V>>,
  key: K,
  id: SubscriptionId,
  build: () => V,
): V {
  let byId = store.get(key);
  if (byId === undefined) {
    byId = new Map();
    store.set(key, byId);
  }
  let built = byId.get(id);
  if (built === undefined) {
    built = build();
    byId.set(id, built);
  }
  return built;
}

/** A final, unmasked text frame carrying `payload` (RFC 6455 §5.2). */
export function textFrame(payload: Buffer): EventFrame {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return { frame, payload: frame.subarray(headerLength) };
}
