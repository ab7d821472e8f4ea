import { isApiError } from '@proserver/sdk';
import { describe, expect, it } from 'vitest';
import { parseNdjson, toNdjson } from '../src/ndjson.js';

/** A response whose body arrives in the given byte chunks, one per read; records cancellation. */
function chunkedResponse(chunks: Uint8Array[], options: { failAfter?: number } = {}) {
  const state = { reads: 0, cancelled: false };
  // highWaterMark 0: the stream pulls a chunk only when the parser reads, so reads are countable.
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (options.failAfter !== undefined && state.reads === options.failAfter) {
          controller.error(new TypeError('socket hang up'));
          return;
        }
        const chunk = chunks[state.reads++];
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(body), state };
}

async function collect(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('NDJSON parsing', () => {
  it('parses lines split across chunks, even inside a multi-byte character', async () => {
    const bytes = new TextEncoder().encode('{"k":"a","v":"é✓"}\r\n\n{"k":"b"}\n{"k":"c"}');
    const splitAt = bytes.indexOf(0xe2) + 1; // inside the three bytes of ✓
    const { response } = chunkedResponse([bytes.slice(0, 5), bytes.slice(5, splitAt), bytes.slice(splitAt)]);
    expect(await collect(parseNdjson(response))).toEqual([{ k: 'a', v: 'é✓' }, { k: 'b' }, { k: 'c' }]);
  });

  it('yields each line before the rest of the stream has arrived', async () => {
    const encoder = new TextEncoder();
    const { response, state } = chunkedResponse([encoder.encode('{"n":1}\n'), encoder.encode('{"n":2}\n')]);
    const iterator = parseNdjson(response);
    expect((await iterator.next()).value).toEqual({ n: 1 });
    expect(state.reads).toBe(1);
    await iterator.return(undefined);
    expect(state.cancelled).toBe(true);
  });

  it('reports a stream that breaks off as NETWORK_ERROR', async () => {
    const { response } = chunkedResponse([new TextEncoder().encode('{"n":1}\n')], { failAfter: 1 });
    const error = await collect(parseNdjson(response)).catch((e: unknown) => e);
    expect(isApiError(error, 'NETWORK_ERROR')).toBe(true);
  });

  it('reports a line that is not JSON as INVALID_RESPONSE and stops the download', async () => {
    const encoder = new TextEncoder();
    const { response, state } = chunkedResponse([encoder.encode('{"n":1}\nnot json\n'), encoder.encode('{"n":2}\n')]);
    const error = await collect(parseNdjson(response)).catch((e: unknown) => e);
    expect(isApiError(error, 'INVALID_RESPONSE')).toBe(true);
    expect(state.cancelled).toBe(true);
  });

  it('serialises sync and async iterables one line each', async () => {
    async function* entries() {
      yield { key: 'a', value: 'line\nbreak' };
      yield { key: 'b', value: 2 };
    }
    expect(await toNdjson(entries())).toBe('{"key":"a","value":"line\\nbreak"}\n{"key":"b","value":2}\n');
    expect(await toNdjson([])).toBe('');
  });
});
