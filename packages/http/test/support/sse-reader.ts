/** Reads a Server-Sent Events response message by message (the parsing an EventSource does). */
import { waitUntil } from '@proserver/core/testing';

export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  /** The comment lines (`: keep-alive`). */
  comments: string[];
}

export interface SseReader {
  messages: SseMessage[];
  /** The next message (not yet taken) matching `predicate`. */
  next(predicate?: (message: SseMessage) => boolean, what?: string): Promise<SseMessage>;
  /** Resolves once the server ended the stream. */
  ended: Promise<void>;
  cancel(): Promise<void>;
}

export function readSse(response: Response): SseReader {
  if (!response.body) throw new Error('the response has no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const messages: SseMessage[] = [];
  let buffer = '';
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += value;
      let boundary = buffer.indexOf('\n\n');
      while (boundary >= 0) {
        messages.push(parseBlock(buffer.slice(0, boundary)));
        buffer = buffer.slice(boundary + 2);
        boundary = buffer.indexOf('\n\n');
      }
    }
  })();
  return {
    messages,
    ended,
    async next(predicate = () => true, what = 'an SSE message') {
      let found: SseMessage | undefined;
      await waitUntil(() => {
        const index = messages.findIndex(predicate);
        if (index < 0) return false;
        found = messages.splice(index, 1)[0];
        return true;
      }, what);
      return found as SseMessage;
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

function parseBlock(block: string): SseMessage {
  const message: SseMessage = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      message.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id' || field === 'event' || field === 'retry') message[field] = value;
    else if (field === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
  }
  return message;
}
