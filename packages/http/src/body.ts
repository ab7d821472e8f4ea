/**
 * Reading request bodies: the one place that checks the media type, enforces the size limit
 * while reading (a missing or lying `Content-Length` changes nothing), decodes UTF-8 and
 * parses JSON, so every route answers bad bodies the same way.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { ProServerError, parseInput } from '@proserver/core';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from './env.js';

export interface ReadBodyOptions {
  /** The only accepted media type (parameters other than `charset=utf-8` are refused). */
  mediaType: string;
  maxBytes: number;
}

/**
 * The body as UTF-8 text: 415 `UNSUPPORTED_MEDIA_TYPE` for another content type, 413
 * `PAYLOAD_TOO_LARGE` past `maxBytes`, 400 `MALFORMED_JSON` when it is not UTF-8.
 *
 * @example
 * const text = await readBodyText(c, { mediaType: 'application/x-ndjson', maxBytes: 32 << 20 });
 */
export async function readBodyText(c: Context<AppEnv>, options: ReadBodyOptions): Promise<string> {
  checkMediaType(c.req.header('content-type'), options.mediaType);
  const declared = c.req.header('content-length');
  if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > options.maxBytes) {
    throw tooLarge(options.maxBytes);
  }
  const incoming = nodeIncoming(c);
  const bytes = incoming
    ? await readIncomingLimited(incoming, options.maxBytes)
    : await readLimited(c.req.raw.body, options.maxBytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProServerError('MALFORMED_JSON', 'the request body is not valid UTF-8');
  }
}

/**
 * Reads a JSON body and validates it with a (core) zod schema: 415, 413, 400
 * `MALFORMED_JSON`, then 400 `VALIDATION_FAILED` listing every field problem. With
 * `optional`, a request without any body is read as `{}` (for bodies whose fields all have
 * defaults, such as increment's `{by?}`).
 *
 * @example
 * const input = await readJsonBody(c, kvSetInputSchema, { maxBytes: 1 << 20 });
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context<AppEnv>,
  schema: S,
  options: { maxBytes: number; optional?: boolean },
): Promise<z.output<S>> {
  if (options.optional && hasNoBody(c)) return parseInput(schema, {}, 'body');
  const text = await readBodyText(c, { mediaType: 'application/json', maxBytes: options.maxBytes });
  return parseInput(schema, parseJson(text, 'the request body'), 'body');
}

/**
 * `JSON.parse` whose failure is a 400 `MALFORMED_JSON` naming `what`.
 *
 * @example
 * parseJson(line, `line ${n}`);
 */
export function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') throw new ProServerError('MALFORMED_JSON', `${what} is empty; expected JSON`);
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'parse error';
    throw new ProServerError('MALFORMED_JSON', `${what} is not valid JSON (${reason})`);
  }
}

/** No Content-Type and nothing to read: the request was sent without a body at all. */
function hasNoBody(c: Context<AppEnv>): boolean {
  if (c.req.header('content-type') !== undefined) return false;
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return true;
  if (!nodeIncoming(c) && c.req.raw.body === null) return true;
  const length = c.req.header('content-length')?.trim();
  return length === '0' || (length === undefined && c.req.header('transfer-encoding') === undefined);
}

function checkMediaType(header: string | undefined, expected: string): void {
  const [type = '', ...parameters] = (header ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length);
  const utf8 = charset === undefined || ['utf-8', 'utf8', '"utf-8"'].includes(charset);
  if (type !== expected || !utf8) {
    const got = header === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(header.slice(0, 100))}`;
    throw new ProServerError('UNSUPPORTED_MEDIA_TYPE', `expected Content-Type ${expected} (UTF-8), got ${got}`);
  }
}

/**
 * The Node.js request when the app runs on @hono/node-server and its body was not read yet;
 * undefined elsewhere (`app.request()`, other runtimes). Reading it directly skips what the
 * first touch of `c.req.raw.body` costs there: a full WHATWG Request, an AbortController and a
 * web stream over the Node stream (a tenth of the server's CPU per document write).
 */
function nodeIncoming(c: Context<AppEnv>): IncomingMessage | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  return incoming && !incoming.readableDidRead ? incoming : undefined;
}

/** Like {@link readLimited}, from the Node.js stream; an oversized body is not read further. */
async function readIncomingLimited(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop early (the throw) destroys the stream, as cancelling the web stream does.
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Stop reading at once: the rest of an oversized body is never buffered.
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number): ProServerError {
  return new ProServerError('PAYLOAD_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
}
