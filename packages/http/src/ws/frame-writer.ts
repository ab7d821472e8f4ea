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
import type { EventFrame } from './event-frames.js';

export interface FrameWriter {
  /** Queues `frame`; it is written when the current synchronous pass ends (or at `flush`). */
  write(frame: EventFrame): void;
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
  let queued: EventFrame[] = [];
  const flush = () => {
    const frames = queued;
    if (frames.length === 0) return;
    queued = [];
    if (!options.isOpen()) return;
    if (stream === null) for (const frame of frames) socket.send(frame.payload, { binary: false });
    else stream.write(joined(frames));
    options.afterWrite();
  };
  return {
    write(frame) {
      if (queued.length === 0) queueMicrotask(flush);
      queued.push(frame);
    },
    flush,
  };
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
