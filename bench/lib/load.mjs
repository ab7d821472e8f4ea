/**
 * One measured case: one autocannon run from this process against the server child, whose
 * first seconds (the warm-up) are discarded.
 */
import autocannon from 'autocannon';
import { msPer, startCpuMeasure } from './cpu.mjs';

/**
 * Runs autocannon with the given options. `perConnection(index)` may give each connection its
 * own request list; `onLatency(ms, ok)` sees every response's latency and whether it was a 2xx.
 */
async function fire(options, { perConnection, onLatency } = {}) {
  let nextConnection = 0;
  const setupClient = perConnection ? (client) => client.setRequests(perConnection(nextConnection++)) : undefined;
  const instance = autocannon({ ...options, ...(setupClient ? { setupClient } : {}) });
  if (onLatency) {
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      onLatency(responseTime, statusCode >= 200 && statusCode < 300);
    });
  }
  return instance;
}

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Measures one case. Returns requests/s (successful responses over the run's duration), p50
 * and p99 latency in ms, the failed requests (non-2xx, socket errors, timeouts: figures
 * with failures are not trustworthy and the report says so), and the CPU ms per request over
 * the measured run: the machine's, the load generator's and (given `settings.serverPid`) the
 * server process's; the rest of the machine's is mostly PostgreSQL.
 *
 * Latencies are collected here with sub-millisecond precision: autocannon's own histogram
 * rounds to whole milliseconds, which reads 0 for most loopback requests.
 */
export async function measure({ url, method = 'GET', headers = {}, body, perConnection }, settings) {
  const latencies = [];
  const started = performance.now();
  let cpu;
  let failed = 0;
  let measuring = false;
  let measuredSince = 0;
  const warmupMs = settings.warmupSeconds * 1000;
  // One run over the same connections: the warm-up is its first seconds, discarded. A separate
  // warm-up run left the measured run to start on new connections, and each run's first two
  // seconds or so are slower than the rest (ProServer's 10-connection document write: 600–830
  // writes per half second then, 850–1,000 after; the floor's 2,150–2,550, then 2,800–3,000).
  const result = await fire(
    {
      url,
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      connections: settings.connections,
      timeout: 10,
      duration: settings.warmupSeconds + settings.durationSeconds,
    },
    {
      perConnection,
      onLatency: (ms, ok) => {
        if (!measuring) {
          if (performance.now() - started < warmupMs) return;
          measuring = true;
          measuredSince = performance.now();
          cpu = startCpuMeasure(settings.serverPid === undefined ? {} : { server: settings.serverPid });
        }
        if (ok) latencies.push(ms);
        else failed++;
      },
    },
  );
  if (!cpu) throw new Error(`bench: no answer from ${url} after the ${settings.warmupSeconds} s warm-up`);
  const seconds = (performance.now() - measuredSince) / 1000;
  const { machine, own, server = null } = msPer(cpu.stop(), latencies.length);
  latencies.sort((a, b) => a - b);
  return {
    cpuMs: { machine, load: own, server },
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    failed: failed + result.errors + result.timeouts,
  };
}
