import type { RetryPolicy } from './types.js';

/** Policy of a type that sets none: three attempts, exponential from 1 s to 1 min, full jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  jitter: true,
};

/** A policy from partial overrides, most specific last. */
export function resolveRetryPolicy(...layers: (Partial<RetryPolicy> | undefined)[]): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (policy as Record<string, unknown>)[key] = value;
    }
  }
  if (policy.maxDelayMs < policy.initialDelayMs) policy.maxDelayMs = policy.initialDelayMs;
  return policy;
}

/**
 * Delay before the attempt after `failedAttempt` (1-based): fixed = `initialDelayMs`;
 * exponential = `initialDelayMs · 2^(failedAttempt-1)`; both capped at `maxDelayMs`. With
 * jitter (the default) the delay is uniform in [0, delay] ("full jitter"), so tasks that
 * failed together do not all come back together.
 *
 * @example
 * retryDelayMs({ maxAttempts: 5, backoff: 'exponential', initialDelayMs: 100, maxDelayMs: 1000, jitter: false }, 3); // 400
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempt - 1, 0), 40);
  const base = policy.backoff === 'fixed' ? policy.initialDelayMs : policy.initialDelayMs * 2 ** exponent;
  const capped = Math.min(base, policy.maxDelayMs);
  return policy.jitter === false ? capped : Math.floor(random() * capped);
}
