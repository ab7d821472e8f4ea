/**
 * A minimal WebSocket client for the events benchmark's subscribers: the upgrade, masked
 * client frames, and a frame decoder that works through each TCP chunk in place. A thousand
 * `ws` clients decoding a million messages a second would take most of this machine's two CPUs
 * away from the server they measure; this decoder costs a fraction of that. It answers pings
 * (the server's heartbeat) and hands each text message to `onText(data, start, end)`: the
 * message is `data[start, end)` (no copy; valid only during the call).
 * Not a general client: no fragmentation (the server never fragments), no extensions.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

const OPCODE = { text: 1, close: 8, ping: 9, pong: 10 };

/** A final client frame (masked, as RFC 6455 requires of clients) with `payload`. */
function clientFrame(opcode, payload) {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const frame = Buffer.alloc(6 + extra + length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (extra === 0 ? length : extra === 2 ? 126 : 127);
  if (extra === 2) frame.writeUInt16BE(length, 2);
  if (extra === 8) frame.writeBigUInt64BE(BigInt(length), 2);
  const mask = randomBytes(4);
  mask.copy(frame, 2 + extra);
  for (let i = 0; i < length; i++) frame[6 + extra + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * Connects and upgrades; resolves with `{sendText, close}` once the server accepted.
 *
 * @example
 * const socket = await connectRaw(url, headers, { onText: (data, start, end) => {}, onClose: (code) => {} });
 * socket.sendText(JSON.stringify({ type: 'ping' }));
 */
export function connectRaw(wsUrl, headers, { onText, onClose = () => {} }) {
  const url = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    const lines = [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let pending = Buffer.alloc(0);
    let upgraded = false;
    const api = {
      sendText: (text) => socket.write(clientFrame(OPCODE.text, Buffer.from(text))),
      close: () => socket.destroy(),
    };
    socket.on('data', (chunk) => {
      let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      if (!upgraded) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) {
          pending = data;
          return;
        }
        const head = data.toString('latin1', 0, end);
        if (!head.startsWith('HTTP/1.1 101')) {
          reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
          socket.destroy();
          return;
        }
        upgraded = true;
        resolve(api);
        data = data.subarray(end + 4);
      }
      pending = decode(data);
    });
    socket.once('error', reject);
    socket.once('close', () => onClose());

    /** Handles every whole frame in `data`; answers the unfinished rest. */
    function decode(data) {
      let at = 0;
      while (data.length - at >= 2) {
        const opcode = data[at] & 0x0f;
        const short = data[at + 1] & 0x7f;
        const headerLength = short < 126 ? 2 : short === 126 ? 4 : 10;
        if (data.length - at < headerLength) break;
        const length =
          short < 126 ? short : short === 126 ? data.readUInt16BE(at + 2) : Number(data.readBigUInt64BE(at + 2));
        if (data.length - at < headerLength + length) break;
        const start = at + headerLength;
        at = start + length;
        if (opcode === OPCODE.text) onText(data, start, at);
        else if (opcode === OPCODE.ping) socket.write(clientFrame(OPCODE.pong, data.subarray(start, at)));
        else if (opcode === OPCODE.close) {
          const payload = data.subarray(start, at);
          onClose(length >= 2 ? payload.readUInt16BE(0) : 1005, payload.subarray(2).toString());
          socket.destroy();
          return Buffer.alloc(0);
        }
      }
      // Copied: the rest must not keep the whole chunk alive.
      return Buffer.from(data.subarray(at));
    }
  });
}
