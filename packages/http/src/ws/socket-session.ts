/**
 * One WebSocket connection after the upgrade: its subscriptions, the messages it sends and
 * receives, its heartbeat, and the bound on what it may leave unread.
 *
 * Why the order of `subscribed` and `event` holds: core may deliver replayed events before
 * `subscribe()` resolves, so events of a subscription still being set up are held (their
 * bytes count against the same bound as the socket's buffer) and sent right after
 * `subscribed`.
 */
import {
  type Core,
  type ErrorCode,
  type EventSubscription,
  isProServerError,
  type Logger,
  type Principal,
  type ProServerEvent,
  type SubscriptionEndReason,
} from '@proserver/core';
import type { WebSocket } from 'ws';
import { type ClientMessage, parseClientMessage, type SubscriptionId } from './client-messages.js';
import { CLOSE_CODES } from './close-codes.js';
import { type EventFrame, eventFrame, eventFrames } from './event-frames.js';
import { createFrameWriter } from './frame-writer.js';
import type { ResolvedRealtimeOptions } from './realtime-options.js';

/** How long a socket closed by the server may take to finish the closing handshake. */
const CLOSE_GRACE_MS = 10_000;
/** A socket that has not answered this many heartbeat pings in a row is dead. */
const MAX_MISSED_PONGS = 2;

/**
 * The server side of one socket, as the WebSocket support drives it.
 *
 * @example
 * const session = createSocketSession({ core, principal, socket, options, logger });
 * socket.on('message', (data) => session.receive(data.toString()));
 */
export interface SocketSession {
  /** Handles one client message (never throws; problems become `error` messages). */
  receive(data: string | ArrayBufferLike | Blob): void;
  /** One heartbeat tick: pings, or terminates the socket after two unanswered pings. */
  heartbeat(): void;
  /** Closes the socket with a code and reason (its subscriptions end at once). */
  close(code: number, reason: string): void;
  /** The socket is gone: ends every subscription. */
  dispose(): Promise<void>;
}

/** What a session is made of. */
export interface SocketSessionInit {
  core: Core;
  principal: Principal;
  socket: WebSocket;
  options: ResolvedRealtimeOptions;
  logger: Logger;
}

interface SubscriptionState {
  id: SubscriptionId;
  /** Set once core's subscribe resolved; until then events are held in `held`. */
  subscription?: EventSubscription;
  held: { seq: number; frame: EventFrame }[];
  ended: boolean;
}

/**
 * Starts serving one upgraded socket for `principal`.
 *
 * @example
 * const session = createSocketSession({ core, principal, socket, options, logger });
 */
export function createSocketSession(init: SocketSessionInit): SocketSession {
  const { core, principal, socket, options, logger } = init;
  const subscriptions = new Map<string, SubscriptionState>();
  const frames = createFrameWriter(socket, {
    isOpen: () => socket.readyState === socket.OPEN,
    afterWrite: () => checkBacklog(),
  });
  let heldBytes = 0;
  let missedPongs = 0;
  let closing = false;
  const who = principal.kind === 'token' ? principal.tokenId : 'system';

  socket.on('pong', () => {
    missedPongs = 0;
  });

  // The socket closes when its token stops being valid, whether or not anything is subscribed.
  const watching =
    principal.kind === 'token'
      ? core.events.watch(principal, tokenEnded).catch((error: unknown) => {
          // Revoked or expired between the upgrade and now (anything else is not the token's fault).
          if (isProServerError(error) && error.code === 'TOKEN_EXPIRED') tokenEnded('token_expired');
          else if (isProServerError(error) && error.code === 'UNAUTHENTICATED') tokenEnded('token_revoked');
          else reportFailure(error);
          return undefined;
        })
      : Promise.resolve(undefined);

  const keyOf = (id: SubscriptionId) => JSON.stringify(id);

  function send(message: object): void {
    sendText(JSON.stringify(message));
  }

  function sendText(text: string): void {
    if (closing || socket.readyState !== socket.OPEN) return;
    // Events queued before this message go first.
    frames.flush();
    if (closing) return;
    socket.send(text);
    checkBacklog();
  }

  /** Unsent bytes (the socket's buffer plus held events) over the bound: the client is too slow. */
  function checkBacklog(): void {
    if (closing) return;
    const backlog = socket.bufferedAmount + heldBytes;
    if (backlog <= options.maxBufferedBytes) return;
    logger.warn('websocket closed: slow consumer', { tokenId: who, backlogBytes: backlog });
    close(CLOSE_CODES.slowConsumer, 'slow consumer');
  }

  function sendFrame(frame: EventFrame): void {
    if (!closing) frames.write(frame);
  }

  function sendError(code: ErrorCode, message: string, id?: SubscriptionId): void {
    send(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
  }

  function deliver(state: SubscriptionState, event: ProServerEvent): void {
    if (state.ended || closing) return;
    const frame = eventFrame(state.id, event);
    if (state.subscription === undefined) {
      state.held.push({ seq: event.seq, frame });
      heldBytes += frame.frame.length;
      checkBacklog();
      return;
    }
    sendFrame(frame);
  }

  /** Live events handed out together: the same array reaches every subscriber of a topic, so its frames are built once. */
  function deliverMany(state: SubscriptionState, events: readonly ProServerEvent[]): void {
    if (state.ended || closing) return;
    if (state.subscription === undefined) {
      for (const event of events) deliver(state, event);
      return;
    }
    frames.write(eventFrames(state.id, events));
  }

  function tokenEnded(reason: SubscriptionEndReason): void {
    if (reason !== 'token_revoked' && reason !== 'token_expired') return;
    logger.info('websocket closed: token no longer valid', { tokenId: who, reason });
    close(CLOSE_CODES.unauthorized, reason === 'token_revoked' ? 'token revoked' : 'token expired');
  }

  function endedByCore(state: SubscriptionState, reason: SubscriptionEndReason): void {
    if (state.ended) return;
    if (reason === 'token_revoked' || reason === 'token_expired') {
      tokenEnded(reason);
    } else if (reason === 'shutdown') {
      close(CLOSE_CODES.goingAway, 'server shutting down');
    } else {
      forget(state);
      sendError('UNAVAILABLE', 'the server ended this subscription; subscribe again with since', state.id);
    }
  }

  function forget(state: SubscriptionState): void {
    state.ended = true;
    for (const { frame } of state.held) heldBytes -= frame.frame.length;
    state.held = [];
    if (subscriptions.get(keyOf(state.id)) === state) subscriptions.delete(keyOf(state.id));
  }

  async function subscribe(message: Extract<ClientMessage, { type: 'subscribe' }>): Promise<void> {
    const key = keyOf(message.id);
    if (subscriptions.has(key)) {
      sendError('ALREADY_EXISTS', 'a subscription with this id is active on this socket', message.id);
      return;
    }
    if (subscriptions.size >= options.maxSubscriptionsPerSocket) {
      const limit = options.maxSubscriptionsPerSocket;
      sendError('VALIDATION_FAILED', `at most ${limit} subscriptions per socket: unsubscribe one first`, message.id);
      return;
    }
    const state: SubscriptionState = { id: message.id, held: [], ended: false };
    subscriptions.set(key, state);
    let subscription: EventSubscription;
    try {
      subscription = await core.events.subscribe(principal, message.topics, (event) => deliver(state, event), {
        ...(message.since === undefined ? {} : { since: message.since }),
        onEnd: (reason) => endedByCore(state, reason),
        onBatch: (events) => deliverMany(state, events),
      });
    } catch (error) {
      forget(state);
      reportFailure(error, message.id);
      return;
    }
    if (state.ended || closing) {
      // Unsubscribed (or the socket closed) while core was still setting it up.
      await subscription.close().catch(() => {});
      return;
    }
    state.subscription = subscription;
    const held = state.held;
    state.held = [];
    for (const { frame } of held) heldBytes -= frame.frame.length;
    // `seq` is where the subscription starts (every matching event after it is delivered): the
    // client may resume from it, so it must not count held events the client has not seen yet.
    const liveStart = held[0] === undefined ? subscription.lastSeq : held[0].seq - 1;
    const startSeq = message.since ?? liveStart;
    send({ type: 'subscribed', id: message.id, seq: startSeq });
    for (const { frame } of held) sendFrame(frame);
  }

  async function unsubscribe(id: SubscriptionId): Promise<void> {
    const state = subscriptions.get(keyOf(id));
    if (state === undefined) {
      sendError('NOT_FOUND', 'no active subscription with this id on this socket', id);
      return;
    }
    forget(state);
    await state.subscription?.close().catch(() => {});
  }

  function reportFailure(error: unknown, id?: SubscriptionId): void {
    if (isProServerError(error) && error.code !== 'INTERNAL') {
      sendError(error.code, error.message, id);
      return;
    }
    logger.error('websocket message failed', {
      tokenId: who,
      error: error instanceof Error ? error.message : String(error),
    });
    sendError('INTERNAL', 'an internal error occurred', id);
  }

  function close(code: number, reason: string): void {
    if (closing) return;
    closing = true;
    // What was queued goes before the close frame, unless the client is too slow for it.
    if (code !== CLOSE_CODES.slowConsumer) frames.flush();
    void releaseAll();
    if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) socket.close(code, reason);
    // A client that stopped reading never answers the close frame: do not keep its buffers.
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  async function releaseAll(): Promise<void> {
    void watching.then((watch) => watch?.close());
    const states = [...subscriptions.values()];
    for (const state of states) forget(state);
    await Promise.all(states.map((state) => state.subscription?.close().catch(() => {})));
  }

  return {
    receive(data) {
      if (closing) return;
      const parsed = parseClientMessage(data, { maxBytes: options.maxMessageBytes, maxTopics: options.maxTopics });
      if ('problem' in parsed) {
        const { id, code, message } = parsed.problem;
        sendError(code, message, id);
        return;
      }
      const message = parsed.message;
      if (message.type === 'ping') send({ type: 'pong' });
      else if (message.type === 'subscribe') void subscribe(message).catch((error) => reportFailure(error, message.id));
      else void unsubscribe(message.id).catch((error) => reportFailure(error, message.id));
    },
    heartbeat() {
      if (closing || socket.readyState !== socket.OPEN) return;
      if (missedPongs >= MAX_MISSED_PONGS) {
        logger.info('websocket terminated: no answer to heartbeat pings', { tokenId: who });
        closing = true;
        void releaseAll();
        socket.terminate();
        return;
      }
      missedPongs += 1;
      socket.ping();
    },
    close,
    dispose: releaseAll,
  };
}
