import type { SlotClass } from '../storage/ports.js';
import type { TaskEngineSettings } from './service.js';

/** `createCore({tasks})`: every engine setting, optional. */
export interface TaskEngineConfig extends Partial<Omit<TaskEngineSettings, 'workers'>> {
  /** Slots per class in this process (default critical 4, normal 4, batch 2). */
  workers?: Partial<Record<SlotClass, number>>;
}

export const DEFAULT_TASK_WORKERS: Readonly<Record<SlotClass, number>> = { critical: 4, normal: 4, batch: 2 };

/**
 * Fills in the defaults: lease 30 s renewed every lease/3, poll 1 s, batch aging 60 s,
 * retention 7 days, reaper every lease/2, scheduler every second, purge every minute,
 * payloads up to 256 KiB, 1,000 log lines per task, progress written at most every 250 ms.
 *
 * @example
 * resolveTaskEngineSettings({ workers: { normal: 8 }, leaseMs: 10_000 });
 */
export function resolveTaskEngineSettings(config: TaskEngineConfig = {}): TaskEngineSettings {
  const workers = { ...DEFAULT_TASK_WORKERS, ...definedOnly(config.workers ?? {}) };
  for (const [slotClass, count] of Object.entries(workers)) {
    if (!Number.isInteger(count) || count < 0 || count > 1000) {
      throw new RangeError(`tasks.workers.${slotClass} must be a whole number from 0 to 1000`);
    }
  }
  const leaseMs = config.leaseMs ?? 30_000;
  return {
    leaseMs,
    heartbeatMs: config.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3)),
    pollIntervalMs: config.pollIntervalMs ?? 1000,
    batchAgingMs: config.batchAgingMs ?? 60_000,
    retentionMs: config.retentionMs ?? 7 * 24 * 3600 * 1000,
    reaperIntervalMs: config.reaperIntervalMs ?? Math.max(1, Math.floor(leaseMs / 2)),
    schedulerIntervalMs: config.schedulerIntervalMs ?? 1000,
    purgeIntervalMs: config.purgeIntervalMs ?? 60_000,
    maxPayloadBytes: config.maxPayloadBytes ?? 256 * 1024,
    logLinesPerTask: config.logLinesPerTask ?? 1000,
    progressIntervalMs: config.progressIntervalMs ?? 250,
    shutdownGraceMs: config.shutdownGraceMs ?? 10_000,
    idempotencyWindowMs: config.idempotencyWindowMs ?? 24 * 3600 * 1000,
    random: config.random ?? Math.random,
    workers,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
