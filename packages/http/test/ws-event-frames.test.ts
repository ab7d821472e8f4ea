import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { ProServerEvent } from '@proserver/core';
import { describe, expect, it } from 'vitest';
import { eventFrame, eventFrames, textFrame } from '../src/ws/event-frames.js';

/** ws's frame decoder, the code every `ws` client runs (exported by ws, but not in @types/ws). */
const { Receiver } = createRequire(import.meta.url)('ws') as {
  Receiver: new (options: { isServer: boolean }) => Writable;
};

/** Decodes frames the way a client's ws library does, answering the text messages. */
function decode(bytes: Buffer): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString());
  });
  receiver.write(bytes);
  return messages;
}

const event = (data: unknown, seq = 7): ProServerEvent => ({
  seq,
  id: `evt_${seq}`,
  type: 'custom.test',
  subject: 'custom.test',
  data: data as ProServerEvent['data'],
  actor: 'system',
  at: '2026-11-28T00:00:00.000Z',
});

describe('pre-built event frames', () => {
  it.each([
    ['7-bit length', 10],
    ['16-bit length', 1_000],
    ['64-bit length', 70_000],
  ])('encodes a payload with a %s as one valid text frame', (_, size) => {
    const payload = Buffer.from('é'.repeat(size / 2));
    const { frame, payload: view } = textFrame(payload);
    expect(view.equals(payload)).toBe(true);
    expect(decode(frame)).toEqual([payload.toString()]);
  });

  it('is the event message, built once per event and subscription id', () => {
    const first = event({ n: 1, text: 'x'.repeat(200) });
    const frame = eventFrame('builds', first);
    expect(eventFrame('builds', first)).toBe(frame);
    expect(eventFrame(2, first)).not.toBe(frame);
    expect(JSON.parse(decode(frame.frame)[0] as string)).toEqual({ type: 'event', id: 'builds', seq: 7, event: first });
    expect(JSON.parse(frame.payload.toString())).toMatchObject({ id: 'builds' });
  });

  it('can be concatenated: frames written back to back decode in order', () => {
    const frames = [event({ a: 1 }, 1), event({ b: 'x'.repeat(300) }, 2), event({ c: 3 }, 3)].map(
      (e) => eventFrame('s', e).frame,
    );
    expect(decode(Buffer.concat(frames)).map((text) => JSON.parse(text).seq)).toEqual([1, 2, 3]);
  });

  it('joins the frames of a dispatch once per array and subscription id', () => {
    const events = Object.freeze([event({ a: 1 }, 1), event({ b: 2 }, 2)]);
    const joined = eventFrames('s', events);
    expect(eventFrames('s', events)).toBe(joined);
    expect(eventFrames('t', events)).not.toBe(joined);
    expect(joined.frames).toEqual(events.map((e) => eventFrame('s', e)));
    expect(decode(joined.bytes).map((text) => JSON.parse(text).seq)).toEqual([1, 2]);
    const single = Object.freeze([event({ c: 3 }, 3)]);
    expect(eventFrames('s', single).bytes).toBe(eventFrame('s', single[0] as ProServerEvent).frame);
  });
});
