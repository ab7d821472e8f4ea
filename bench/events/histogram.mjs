/**
 * A latency histogram with 0.1 ms buckets up to 60 s (beyond: the last bucket), so millions of
 * samples cost 2.4 MB and merging the children's histograms is adding arrays.
 */
const BUCKET_MS = 0.1;
const BUCKETS = 600_000;

export function createHistogram() {
  return new Uint32Array(BUCKETS);
}

export function record(histogram, ms) {
  const index = Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)));
  histogram[index] += 1;
}

/** Adds `other` (an array of counts, e.g. received over IPC) into `histogram`. */
export function merge(histogram, other) {
  for (let i = 0; i < other.length; i++) histogram[i] += other[i];
}

/** Sparse form for IPC: [[bucket, count], …]. */
export function toSparse(histogram) {
  const entries = [];
  for (let i = 0; i < histogram.length; i++) if (histogram[i] > 0) entries.push([i, histogram[i]]);
  return entries;
}

export function fromSparse(entries) {
  const histogram = createHistogram();
  for (const [index, count] of entries) histogram[index] += count;
  return histogram;
}

export function count(histogram) {
  let total = 0;
  for (let i = 0; i < histogram.length; i++) total += histogram[i];
  return total;
}

/** The latency (ms, bucket upper bound) below which `fraction` of the samples fall. */
export function percentile(histogram, fraction) {
  const total = count(histogram);
  if (total === 0) return Number.NaN;
  const target = Math.ceil(total * fraction);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= target) return (i + 1) * BUCKET_MS;
  }
  return BUCKETS * BUCKET_MS;
}
