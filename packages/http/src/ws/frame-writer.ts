/**
 * How a socket session writes event frames: collected while core's tailer dispatches a batch
 * of events (one synchronous pass over every subscription), then written to the socket's TCP
 * stream as one buffer when the pass ends. Per message that leaves an array push; per socket
 * and batch, one write. Sockets that received the same frames in the same order (the usual
 * case: many subscribers of one topic) share one joined buffer. With 1,000 subscribers this is
 * what lets fan-out keep up.
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { EventFrame, EventFrames } from './event-frames.js';

export interface FrameWriter {
  /** Queues frames; they are written when the current synchronous pass ends (or at `flush`). */
  write(frames: EventFrame | EventFrames): void;
  /** Writes what is queued now (before a close frame, which must come last). */
  flush(): void;
}

export interface FrameWriterOptions {
  /** Whether the socket still takes data (queued frames are dropped once it does not). */
  isOpen: () => boolean;
  /** Called after each write (the session checks its backlog bound there). */
  afterWrite: () => void;
}

/**
 * A writer for `socket`. Writing complete frames around ws's sender is safe because the sender
 * only reorders (queues) its own writes while compressing, so when a compression extension
 * was negotiated every frame goes through `socket.send` instead.
 *
 * @example
 * const writer = createFrameWriter(socket, { isOpen: () => !closing, afterWrite: checkBacklog });
 * writer.write(eventFrame('builds', event));
 */
export function createFrameWriter(socket: WebSocket, options: FrameWriterOptions): FrameWriter {
  const stream = socket.extensions === '' ? tcpStreamOf(socket) : null;
  let queued: (EventFrame | EventFrames)[] = [];
  const flush = () => {
    const items = queued;
    if (items.length === 0) return;
    queued = [];
    if (!options.isOpen()) return;
    if (stream === null) {
      for (const frame of items.flatMap(framesOf)) socket.send(frame.payload, { binary: false });
    } else {
      // One dispatch's frames, usually: already joined, and shared with every other subscriber.
      const only = items.length === 1 ? (items[0] as EventFrame | EventFrames) : undefined;
      stream.write(only === undefined ? joined(items.flatMap(framesOf)) : bytesOf(only));
    }
    options.afterWrite();
  };
  return {
    write(frames) {
      if (queued.length === 0) queueMicrotask(flush);
      queued.push(frames);
    },
    flush,
  };
}

function framesOf(item: EventFrame | EventFrames): readonly EventFrame[] {
  return 'frames' in item ? item.frames : [item];
}

function bytesOf(item: EventFrame | EventFrames): Buffer {
  return 'frames' in item ? item.bytes : item.frame;
}

/** The last joined batch, reused by the next socket that queued the very same frames. */
let lastJoined: { frames: readonly EventFrame[]; bytes: Buffer } | undefined;

function joined(frames: readonly EventFrame[]): Buffer {
  if (frames.length === 1) return (frames[0] as EventFrame).frame;
  if (lastJoined !== undefined && sameFrames(lastJoined.frames, frames)) return lastJoined.bytes;
  const bytes = Buffer.concat(frames.map((frame) => frame.frame));
  lastJoined = { frames, bytes };
  return bytes;
}

function sameFrames(a: readonly EventFrame[], b: readonly EventFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ws keeps the connection's stream as `_socket` (it has since ws 1): null if that ever changes. */
function tcpStreamOf(socket: WebSocket): Duplex | null {
  const stream = (socket as unknown as { _socket?: unknown })._socket;
  return stream instanceof Duplex ? stream : null;
}
