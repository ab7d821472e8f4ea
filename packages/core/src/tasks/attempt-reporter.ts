import type { Clock } from '../clock.js';
import type { Ids } from '../ids.js';
import type { JsonValue } from '../kv/types.js';
import type { NewLogLine, ProgressAnnouncement, TaskProgressUpdate, TaskStore } from '../storage/ports.js';
import { TASK_EVENTS } from './event-data.js';
import type { TaskEventEmitter } from './events.js';
import { toTaskError } from './task-error.js';
import type { TaskContext, TaskProgress, TaskStage } from './types.js';

export interface AttemptReporterOptions {
  store: TaskStore;
  clock: Clock;
  /** Event ids of the `task.progress`, `task.stage` and `task.log` events. */
  ids: Ids;
  events: TaskEventEmitter;
  workerId: string;
  taskId: string;
  attempt: number;
  /** Stored lines per task; past it, one "log truncated" line. */
  logCap: number;
  /** Shortest time between two progress writes of one task. */
  progressIntervalMs: number;
}

const MAX_LOG_MESSAGE = 8 * 1024;
const MAX_STAGE_RESULT_BYTES = 64 * 1024;

/** A stage result as stored: plain JSON under 64 KiB, otherwise left out (the stage still counts). */
function stageResult(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  try {
    const text = JSON.stringify(value);
    if (text === undefined || text.length > MAX_STAGE_RESULT_BYTES) return undefined;
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

/**
 * What a handler reports during one attempt: progress, stages and log lines. Writes are
 * coalesced: the first change is written at once, later ones at most every
 * `progressIntervalMs` (real time: this paces I/O, it is not domain time), and one writer runs
 * at a time so log lines land in order. The final state goes out with the attempt's outcome.
 *
 * Each write appends at most one `task.log` (the lines it stored), one `task.progress` (the
 * latest value, if it changed) and one `task.stage` (the stages that changed) event, in the
 * unit of work of the write: so a chatty handler produces at most three events per task per
 * `progressIntervalMs` (the event log's `progressEventIntervalMs`), the last value winning.
 */
export class AttemptReporter {
  progress: TaskProgress | null = null;
  stage: string | null = null;
  readonly stages: TaskStage[] = [];
  private logs: NewLogLine[] = [];
  private dirty = false;
  private progressChanged = false;
  private readonly changedStages = new Set<TaskStage>();
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: AttemptReporterOptions) {}

  /** The handler-facing half of the context. */
  contextParts(): Pick<TaskContext, 'progress' | 'stage' | 'log'> {
    const log = (level: NewLogLine['level']) => (message: string, fields?: Record<string, JsonValue>) =>
      this.addLog(level, message, fields);
    return {
      progress: (percent, message) => this.setProgress(percent, message),
      stage: (name, fn) => this.runStage(name, fn),
      log: { info: log('info'), warn: log('warn'), error: log('error') },
    };
  }

  snapshot(): TaskProgressUpdate {
    return { progress: this.progress, stage: this.stage, stages: structuredClone(this.stages) };
  }

  /**
   * Stops timed writes and writes the remaining log lines. Progress goes with the outcome; a
   * progress or stage change not yet announced is written (and announced) once more here, so
   * event consumers see every stage end and the last progress before the final event.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.writing;
    await this.writeLogs();
    const announcement = this.announcement();
    if (announcement) {
      const { store, workerId, taskId, attempt } = this.options;
      await store.updateProgress(workerId, taskId, attempt, this.snapshot(), announcement);
    }
  }

  private setProgress(percent: number, message?: string): void {
    if (!Number.isFinite(percent)) return;
    const clamped = Math.min(100, Math.max(0, percent));
    this.progress = { percent: clamped, message: message === undefined ? null : String(message).slice(0, 1000) };
    this.progressChanged = true;
    this.changed();
  }

  private async runStage<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const entry: TaskStage = {
      name: String(name).slice(0, 200),
      status: 'running',
      startedAt: this.options.clock.now().toISOString(),
      endedAt: null,
    };
    this.stages.push(entry);
    this.stage = entry.name;
    this.changedStages.add(entry);
    this.changed();
    try {
      const value = await fn();
      entry.status = 'completed';
      const result = stageResult(value);
      if (result !== undefined) entry.result = result;
      return value;
    } catch (error) {
      entry.status = 'failed';
      entry.error = toTaskError(error);
      throw error;
    } finally {
      entry.endedAt = this.options.clock.now().toISOString();
      this.changedStages.add(entry);
      this.changed();
    }
  }

  private addLog(level: NewLogLine['level'], message: string, fields?: Record<string, JsonValue>): void {
    // The store drops lines past the cap; this only keeps a chatty handler from filling memory.
    if (this.logs.length > this.options.logCap) return;
    const safeFields = fields === undefined ? undefined : stageResult(fields);
    this.logs.push({
      at: this.options.clock.now(),
      level,
      message: String(message).slice(0, MAX_LOG_MESSAGE),
      ...(safeFields && typeof safeFields === 'object' && !Array.isArray(safeFields)
        ? { fields: safeFields as Record<string, JsonValue> }
        : {}),
    });
    this.changed();
  }

  private changed(): void {
    this.dirty = true;
    if (this.closed || this.timer || this.writing) return;
    const wait = this.lastWrite + this.options.progressIntervalMs - performance.now();
    if (wait <= 0) this.startWrite();
    else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.startWrite();
      }, wait);
      this.timer.unref?.();
    }
  }

  private startWrite(): void {
    if (this.closed) return;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      if (this.dirty) this.changed();
    });
  }

  private async write(): Promise<void> {
    this.dirty = false;
    this.lastWrite = performance.now();
    const { store, workerId, taskId, attempt, events } = this.options;
    try {
      await this.writeLogs();
      const update = this.snapshot();
      await store.updateProgress(workerId, taskId, attempt, update, this.announcement());
      events.emit('task.progress', { id: taskId, progress: update.progress, stage: update.stage });
    } catch (error) {
      events.emit('error', { where: 'task progress write', error });
    }
  }

  /** The events of this write: what changed since the previous one. */
  private announcement(): ProgressAnnouncement | undefined {
    const list: ProgressAnnouncement['events'][number][] = [];
    if (this.progressChanged) list.push({ type: TASK_EVENTS.progress });
    if (this.changedStages.size > 0) {
      const stages = [...this.changedStages].map((stage) => ({
        name: stage.name,
        status: stage.status,
        startedAt: stage.startedAt,
        endedAt: stage.endedAt,
      }));
      list.push({ type: TASK_EVENTS.stage, extra: { stages } });
    }
    this.progressChanged = false;
    this.changedStages.clear();
    if (list.length === 0) return undefined;
    return { change: this.change(), events: list };
  }

  private change() {
    return { actor: 'system', ids: this.options.ids, at: this.options.clock.now() };
  }

  private async writeLogs(): Promise<void> {
    if (this.logs.length === 0) return;
    const lines = this.logs;
    this.logs = [];
    await this.options.store.appendLogs(this.options.taskId, lines, this.options.logCap, this.change());
  }
}
