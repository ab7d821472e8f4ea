/**
 * The floor of the events benchmark, forked by bench/events/run.mjs: a bare `ws` server that
 * publishes its own messages, with no database, no event log, no second node and no
 * per-subscriber checks. It sends the same messages as a ProServer node (same JSON shape and
 * size), built once per event, and writes each 10 ms tick's messages to every socket in one
 * write, as ProServer's frame writer does. What it costs is what any Node.js server pays on
 * this machine to push these messages through these sockets to these clients; ProServer's
 * figures above it are the price of durability, ordering and permissions.
 *
 * IPC as node.mjs: `ready` with `{url, secret}` (any token is accepted), `publish` (ticks of
 * 10 ms at `rate`) answered with `published`, `memory`, `stop`.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const TICK_MS = 10;
const now = () => performance.timeOrigin + performance.now();
const sockets = new Set();
let seq = 0;

/** A final, unmasked text frame (RFC 6455 §5.2), as packages/http/src/ws/event-frames.ts builds. */
function textFrame(payload) {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** The message a ProServer subscriber of `bench` receives for one `custom.bench` event. */
function eventMessage(pad) {
  seq++;
  const event = {
    seq,
    id: `evt_${randomBytes(13).toString('hex').slice(0, 26).toUpperCase()}`,
    type: 'custom.bench',
    subject: 'custom.bench',
    data: { sentAt: now(), pad },
    actor: 'system',
    at: new Date().toISOString(),
  };
  return `{"type":"event","id":"bench","seq":${seq},"event":${JSON.stringify(event)}}`;
}

async function publish({ rate, seconds, padBytes }) {
  const pad = 'x'.repeat(padBytes ?? 0);
  const started = now();
  let sent = 0;
  while (now() - started < seconds * 1000) {
    // Due by the clock, not by ticks: a tick whose writes took longer than 10 ms sends more next time.
    const due = Math.floor(((now() - started) / 1000) * rate) + 1;
    const frames = [];
    while (sent < due) {
      sent++;
      frames.push(textFrame(Buffer.from(eventMessage(pad))));
    }
    if (frames.length > 0) {
      const joined = Buffer.concat(frames);
      for (const socket of sockets) socket._socket.write(joined);
    }
    const next = started + (sent / rate) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(TICK_MS, next - now()))));
  }
  return { count: sent, seconds: (now() - started) / 1000 };
}

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/api/ws' });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.type !== 'subscribe') return;
    socket.send(JSON.stringify({ type: 'subscribed', id: message.id, topics: message.topics, seq }));
    sockets.add(socket);
  });
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}`, secret: 'floor' });
});
process.on('disconnect', () => process.exit(0));
process.on('message', async (message) => {
  if (message?.type === 'stop') process.exit(0);
  else if (message?.type === 'memory') process.send({ type: 'memory', rssBytes: process.memoryUsage().rss });
  else if (message?.type === 'publish') process.send({ type: 'published', ...(await publish(message)) });
});
