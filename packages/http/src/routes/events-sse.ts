/**
 * `GET <basePath>/events/stream`: Server-Sent Events (SPEC §4). Each event is one SSE
 * message whose `id:` is its seq and whose data is the event as JSON, so a browser's
 * `EventSource` resumes by itself (it sends `Last-Event-ID` when it reconnects).
 *
 * Decisions: data messages carry no `event:` field (every event reaches `onmessage`);
 * the server ends a stream with an `event: close` message (`{reason}`) when the token is
 * revoked or expired, when the consumer is too slow, or on shutdown; keep-alive comments
 * keep proxies from closing an idle stream.
 */
import { type Core, type EventSubscription, type ProServerEvent, parseInput } from '@proserver/core';
import type { Context } from 'hono';
import type { AppEnv } from '../env.js';
import { readQuery } from '../query.js';
import { eventJson } from '../ws/event-json.js';
import type { ResolvedRealtimeOptions } from '../ws/realtime-options.js';
import { lastEventIdSchema, streamQuerySchema } from './events-query.js';

/** How long a browser waits before reconnecting (the SSE `retry:` field). */
const RECONNECT_DELAY_MS = 2000;

const encoder = new TextEncoder();

/**
 * Answers one SSE request: subscribes first (so a bad topic or an expired `since` is a
 * problem response), then streams.
 *
 * @example
 * routes.get('/stream', (c) => streamEvents(c, core, realtime));
 */
export async function streamEvents(
  c: Context<AppEnv>,
  core: Core,
  options: ResolvedRealtimeOptions,
): Promise<Response> {
  const query = readQuery(c, streamQuerySchema(options.maxTopics));
  const lastEventId = parseInput(lastEventIdSchema, c.req.header('last-event-id'), 'Last-Event-ID header');
  const since = lastEventId ?? query.since;
  const principal = c.get('principal');

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let subscription: EventSubscription | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let ended = false;

  const end = (reason?: string) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    if (reason !== undefined) write(`event: close\ndata: ${JSON.stringify({ reason })}\n\n`, true);
    try {
      controller.close();
    } catch {
      // Already closed or cancelled by the client.
    }
    void subscription?.close().catch(() => {});
  };
  const write = (text: string, final = false) => {
    if (ended && !final) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      end();
      return;
    }
    // `desiredSize` turns negative once more than the bound waits unread in the stream.
    if (!final && (controller.desiredSize ?? 0) < 0) {
      core.logger.warn('event stream closed: slow consumer', {
        tokenId: principal.kind === 'token' ? principal.tokenId : 'system',
      });
      end('slow consumer');
    }
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
      },
      cancel() {
        end();
      },
    },
    { highWaterMark: options.maxBufferedBytes, size: (chunk) => chunk.byteLength },
  );

  write(`retry: ${RECONNECT_DELAY_MS}\n\n`);
  const onEvent = (event: ProServerEvent) => write(`id: ${event.seq}\ndata: ${eventJson(event)}\n\n`);
  subscription = await core.events.subscribe(principal, query.topics, onEvent, {
    ...(since === undefined ? {} : { since }),
    onEnd: (reason) =>
      end(reason === 'token_revoked' ? 'token revoked' : reason === 'token_expired' ? 'token expired' : reason),
  });
  if (ended) await subscription.close().catch(() => {});
  heartbeat = setInterval(() => write(': keep-alive\n\n'), options.sseHeartbeatIntervalMs);
  heartbeat.unref();
  c.req.raw.signal.addEventListener('abort', () => end(), { once: true });

  return c.body(stream, 200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  });
}
