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
import { connectRaw } from './raw-socket.mjs';

const [wsUrl, countArg] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${process.env.BENCH_EVENTS_TOKEN}` };
const now = () => performance.timeOrigin + performance.now();
let histogram = createHistogram();
let received = 0;

const EVENT_PREFIX = Buffer.from('{"type":"event"');
const SENT_AT = Buffer.from('"sentAt":');

/**
 * The publish time stamped in an event message, read without parsing the whole message: this
 * process decodes up to a million messages a second on a machine it shares with the server,
 * so the load generator must cost far less than what it measures. (A real client parses each
 * message; the server does the same work either way.)
 */
function sentAtOf(data, start, end) {
  const at = data.indexOf(SENT_AT, start);
  if (at < 0 || at >= end) return Number.NaN;
  return Number.parseFloat(data.toString('latin1', at + SENT_AT.length, Math.min(end, at + SENT_AT.length + 24)));
}

/** Whether `data[start, end)` is an event message. */
const isEvent = (data, start, end) =>
  end - start > EVENT_PREFIX.length &&
  data.compare(EVENT_PREFIX, 0, EVENT_PREFIX.length, start, start + EVENT_PREFIX.length) === 0;

/** One subscriber: the lean client (see raw-socket.mjs), or `ws` with BENCH_EVENTS_CLIENT=ws. */
function open(onEvent, topic = 'events:custom.bench') {
  return process.env.BENCH_EVENTS_CLIENT === 'ws' || topic !== 'events:custom.bench'
    ? openWs(onEvent, topic)
    : openRaw(onEvent, topic);
}

/** The subscribe message of every bench socket. */
const subscribeMessage = (topic) => JSON.stringify({ type: 'subscribe', id: 'bench', topics: [topic] });

/**
 * A text message `data[start, end)` of a socket being set up: events go to `onEvent`,
 * `subscribed` settles the socket as ready, `error` as failed.
 */
function handleText(data, start, end, { onEvent, ready, failed }) {
  if (isEvent(data, start, end)) {
    onEvent(data, start, end);
    return;
  }
  const message = JSON.parse(data.toString('utf8', start, end));
  if (message.type === 'subscribed') ready();
  else if (message.type === 'error') failed(new Error(`${message.code}: ${message.message}`));
}

function openRaw(onEvent, topic) {
  return new Promise((resolve, reject) => {
    let socket;
    const settle = { onEvent, ready: () => resolve(socket), failed: reject };
    const onText = (data, start, end) => handleText(data, start, end, settle);
    connectRaw(wsUrl, headers, { onText }).then((raw) => {
      socket = { terminate: raw.close };
      raw.sendText(subscribeMessage(topic));
    }, reject);
  });
}

function openWs(onEvent, topic) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { headers, skipUTF8Validation: true });
    const settle = { onEvent, ready: () => resolve(socket), failed: reject };
    socket.once('open', () => socket.send(subscribeMessage(topic)));
    socket.on('message', (data) => handleText(data, 0, data.length, settle));
    socket.once('error', reject);
  });
}

async function main() {
  const sockets = [];
  const onEvent = (data, start, end) => {
    received++;
    if (received % 8 === 0) record(histogram, now() - sentAtOf(data, start, end));
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
