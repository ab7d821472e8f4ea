/**
 * One measured case: a short warm-up (discarded) then a fixed-duration autocannon run from
 * this process against the server child.
 */
import autocannon from 'autocannon';
import { msPer, startCpuMeasure } from './cpu.mjs';

/**
 * Runs autocannon with the given options. `perConnection(index)` may give each connection its
 * own request list; `onLatency(ms)` sees every successful response's latency.
 */
async function fire(options, { perConnection, onLatency } = {}) {
  let nextConnection = 0;
  const setupClient = perConnection ? (client) => client.setRequests(perConnection(nextConnection++)) : undefined;
  const instance = autocannon({ ...options, ...(setupClient ? { setupClient } : {}) });
  if (onLatency) {
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) onLatency(responseTime);
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
  const base = {
    url,
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    connections: settings.connections,
    timeout: 10,
  };
  await fire({ ...base, duration: settings.warmupSeconds }, { perConnection });
  const latencies = [];
  const cpu = startCpuMeasure(settings.serverPid === undefined ? {} : { server: settings.serverPid });
  const result = await fire(
    { ...base, duration: settings.durationSeconds },
    { perConnection, onLatency: (ms) => latencies.push(ms) },
  );
  const { machine, own, server = null } = msPer(cpu.stop(), result['2xx']);
  latencies.sort((a, b) => a - b);
  return {
    cpuMs: { machine, load: own, server },
    rps: result['2xx'] / result.duration,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    failed: result.non2xx + result.errors + result.timeouts,
  };
}
