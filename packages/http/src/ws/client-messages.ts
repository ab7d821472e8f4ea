/**
 * The messages a WebSocket client may send (SPEC §4) and how each malformed one is answered.
 * Parsing never throws: a bad message becomes an `error` message for the client, and the
 * socket stays open.
 */
import type { ErrorCode } from '@proserver/core';
import { z } from 'zod';

/** A subscription id as the client chose it: echoed back as given. */
export type SubscriptionId = string | number;

/**
 * One parsed client message.
 *
 * @example
 * { type: 'subscribe', id: 'builds', topics: ['tasks'], since: 120 }
 */
export type ClientMessage =
  | { type: 'subscribe'; id: SubscriptionId; topics: string[]; since?: number }
  | { type: 'unsubscribe'; id: SubscriptionId }
  | { type: 'ping' };

/** What the client is told about a message it got wrong (an `error` message). */
export interface MessageProblem {
  id?: SubscriptionId;
  code: ErrorCode;
  message: string;
}

const idSchema = z.union([
  z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  z.number().int('must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER),
]);

function schemas(maxTopics: number) {
  return {
    subscribe: z.strictObject({
      type: z.literal('subscribe'),
      id: idSchema,
      topics: z
        .array(z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'))
        .min(1, 'must list at least one topic')
        .max(maxTopics, `must list at most ${maxTopics} topics`),
      since: z.number().int('must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    }),
    unsubscribe: z.strictObject({ type: z.literal('unsubscribe'), id: idSchema }),
    ping: z.strictObject({ type: z.literal('ping') }),
  } as const;
}

/**
 * Parses one client message. Text only, at most `maxBytes` of UTF-8, JSON, a known `type`
 * and exactly its fields; anything else is a {@link MessageProblem} (with the message's `id`
 * when it had a usable one, so the client knows which request failed).
 *
 * @example
 * const parsed = parseClientMessage('{"type":"ping"}', { maxBytes: 65536, maxTopics: 50 });
 * if ('problem' in parsed) send({ type: 'error', ...parsed.problem });
 */
export function parseClientMessage(
  data: string | ArrayBufferLike | Blob,
  limits: { maxBytes: number; maxTopics: number },
): { message: ClientMessage } | { problem: MessageProblem } {
  if (typeof data !== 'string') {
    return problem('VALIDATION_FAILED', 'binary messages are not supported: send JSON as text');
  }
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > limits.maxBytes) {
    return problem('PAYLOAD_TOO_LARGE', `a message may have at most ${limits.maxBytes} bytes (this one has ${bytes})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'parse error';
    return problem('MALFORMED_JSON', `the message is not valid JSON (${reason})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem('VALIDATION_FAILED', 'a message must be a JSON object with a "type"');
  }
  const record = value as Record<string, unknown>;
  const id = idSchema.safeParse(record.id);
  const withId = id.success ? { id: id.data } : {};
  const type = record.type;
  const known = schemas(limits.maxTopics);
  if (type !== 'subscribe' && type !== 'unsubscribe' && type !== 'ping') {
    const got = typeof type === 'string' ? `"${type.slice(0, 50)}"` : 'none';
    return problem(
      'VALIDATION_FAILED',
      `unknown message type ${got} (expected subscribe, unsubscribe or ping)`,
      withId,
    );
  }
  const parsed = known[type].safeParse(record);
  if (!parsed.success) {
    const details = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'message'}: ${issue.message}`)
      .join('; ');
    return problem('VALIDATION_FAILED', `invalid ${type} message: ${details}`, withId);
  }
  return { message: parsed.data };
}

function problem(code: ErrorCode, message: string, extra: { id?: SubscriptionId } = {}): { problem: MessageProblem } {
  return { problem: { ...extra, code, message } };
}
