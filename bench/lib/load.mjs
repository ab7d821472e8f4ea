/**
 * One measured case: a short warm-up (discarded) then a fixed-duration autocannon run from
 * this process against the server child.
 */
import autocannon from 'autocannon';
import { machineBusySeconds, processCpuSeconds } from './cpu.mjs';

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

/** CPU seconds so far: the machine's, this process's (the load generator) and the server's. */
function cpuNow(serverPid) {
  const own = process.cpuUsage();
  return {
    machine: machineBusySeconds(),
    load: (own.user + own.system) / 1e6,
    server: serverPid === undefined ? null : processCpuSeconds(serverPid),
  };
}

/** CPU ms per request between two readings (null where a reading is missing). */
function cpuPerRequest(start, end, requests) {
  const per = (key) =>
    start[key] === null || end[key] === null || requests === 0 ? null : ((end[key] - start[key]) * 1000) / requests;
  return { machine: per('machine'), load: per('load'), server: per('server') };
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
  const cpuStart = cpuNow(settings.serverPid);
  const result = await fire(
    { ...base, duration: settings.durationSeconds },
    { perConnection, onLatency: (ms) => latencies.push(ms) },
  );
  const cpuEnd = cpuNow(settings.serverPid);
  latencies.sort((a, b) => a - b);
  return {
    cpuMs: cpuPerRequest(cpuStart, cpuEnd, result['2xx']),
    rps: result['2xx'] / result.duration,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    failed: result.non2xx + result.errors + result.timeouts,
  };
}
