/** Percentiles of latency samples. */

/** The q-quantile of ascending `sorted` values (nearest rank); NaN when there are none. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * `{count, p50, p99, max}` of latencies in ms. Samples that never started within their time
 * limit are passed as Infinity: they count, so a p99 over them reads "> limit", never a
 * flattering figure computed over the survivors only.
 */
export function summarize(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    timedOut: sorted.filter((value) => value === Number.POSITIVE_INFINITY).length,
  };
}
