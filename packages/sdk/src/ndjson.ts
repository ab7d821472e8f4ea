/**
 * Newline-delimited JSON (one JSON document per line), the format of key-value export and
 * import. Parsing is incremental: an export of millions of entries never sits in memory whole.
 */
import { invalidResponse, networkError } from './errors.js';

/**
 * Yields each line of an NDJSON response body as parsed JSON, as the bytes arrive. Breaking
 * out of the loop cancels the download.
 */
export async function* parseNdjson(response: Response): AsyncGenerator<unknown> {
  if (!response.body) {
    // Some fetch implementations (or a 204) give no stream: fall back to the whole text.
    yield* parseLines(response, await response.text());
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let finished = false;
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        throw networkError(cause, 'the NDJSON stream broke off before its end');
      }
      if (chunk.done) break;
      // stream: true keeps a multi-byte character split across chunks for the next decode.
      buffered += decoder.decode(chunk.value, { stream: true });
      const lastNewline = buffered.lastIndexOf('\n');
      if (lastNewline === -1) continue;
      const complete = buffered.slice(0, lastNewline);
      buffered = buffered.slice(lastNewline + 1);
      yield* parseLines(response, complete);
    }
    finished = true;
    yield* parseLines(response, buffered + decoder.decode());
  } finally {
    // Reached early when the caller stops iterating (or a line fails to parse): stop the download.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function* parseLines(response: Response, text: string): Generator<unknown> {
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line);
    } catch (cause) {
      throw invalidResponse(response, `the NDJSON stream has a line that is not JSON: ${line.slice(0, 200)}`, cause);
    }
  }
}

/** Serialises entries as NDJSON text, one line each (a trailing newline ends the last one). */
export async function toNdjson(entries: Iterable<unknown> | AsyncIterable<unknown>): Promise<string> {
  const lines: string[] = [];
  for await (const entry of entries) lines.push(JSON.stringify(entry));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
