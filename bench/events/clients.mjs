/**
 * A share of the benchmark's WebSocket subscribers, forked by bench/events/run.mjs:
 * `clients.mjs <wsUrl> <count>` with the token in BENCH_EVENTS_TOKEN. Each socket subscribes
 * to `events:custom.bench`; every event's publish→receive latency goes into a histogram.
 * IPC: `ready` once all are subscribed; `{type:'reset'}` clears the figures (end of warm-up);
 * `{type:'report'}` answers `{type:'report', received, histogram}`; `{type:'stall'}` opens one
 * more socket that subscribes to `events:custom.stall` and stops reading; after `{type:'resume'}`
 * it reads again and answers `{type:'stalled', code, reason}` when the socket is closed.
 */
import WebSocket from 'ws';
import { createHistogram, record, toSparse } from './histogram.mjs';

const [wsUrl, countArg] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${process.env.BENCH_EVENTS_TOKEN}` };
const now = () => performance.timeOrigin + performance.now();
let histogram = createHistogram();
let received = 0;

function open(onMessage, topic = 'events:custom.bench') {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { headers });
    socket.once('open', () => {
      socket.send(JSON.stringify({ type: 'subscribe', id: 'bench', topics: [topic] }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'subscribed') resolve(socket);
      else if (message.type === 'error') reject(new Error(`${message.code}: ${message.message}`));
      else onMessage(message);
    });
    socket.once('error', reject);
  });
}

async function main() {
  const sockets = [];
  const onEvent = (message) => {
    if (message.type !== 'event') return;
    received++;
    record(histogram, now() - message.event.data.sentAt);
  };
  // Connect in batches so the server's accept queue is not flooded.
  for (let i = 0; i < Number(countArg); i += 50) {
    const batch = Math.min(50, Number(countArg) - i);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => open(onEvent)))));
  }
  process.on('message', async (message) => {
    if (message?.type === 'reset') {
      histogram = createHistogram();
      received = 0;
    } else if (message?.type === 'report') {
      process.send({ type: 'report', received, histogram: toSparse(histogram) });
    } else if (message?.type === 'stall') {
      const stalled = await open(() => {}, 'events:custom.stall');
      stalled.pause();
      let closed;
      let resumed = false;
      stalled.once('close', (code, reason) => {
        closed = { type: 'stalled', code, reason: reason.toString() };
        if (resumed) process.send(closed);
      });
      // Read again once the server gave up, so the close frame arrives (it may have cut the
      // connection already: then answer at once).
      process.on('message', (next) => {
        if (next?.type !== 'resume') return;
        resumed = true;
        stalled.resume();
        if (closed) process.send(closed);
      });
      process.send({ type: 'stalling' });
    } else if (message?.type === 'stop') {
      for (const socket of sockets) socket.terminate();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', sockets: sockets.length });
}

main().catch((error) => {
  process.send?.({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
