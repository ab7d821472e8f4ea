import type { JsonValue } from '../../kv/types.js';
import type { TaskLogLine } from '../../tasks/types.js';
import type { NewLogLine } from '../ports.js';

/** The memory store's task logs: each task's lines in order, numbered from 1. */
export class MemoryTaskLogs {
  private readonly logs = new Map<string, TaskLogLine[]>();

  /**
   * Appends lines in order; past `cap` lines, one "log truncated" line and nothing more.
   * Returns the lines stored by this call.
   */
  append(id: string, lines: readonly NewLogLine[], cap: number): TaskLogLine[] {
    const log = this.logs.get(id) ?? [];
    this.logs.set(id, log);
    const stored: TaskLogLine[] = [];
    for (const line of lines) {
      if (log.length > cap) break;
      if (log.length === cap) {
        const truncated: TaskLogLine = {
          seq: cap + 1,
          at: line.at.toISOString(),
          level: 'warn',
          message: 'log truncated',
        };
        log.push(truncated);
        stored.push(truncated);
        break;
      }
      const entry: TaskLogLine = {
        seq: log.length + 1,
        at: line.at.toISOString(),
        level: line.level,
        message: line.message,
        ...(line.fields ? { fields: structuredClone(line.fields) as Record<string, JsonValue> } : {}),
      };
      log.push(entry);
      stored.push(entry);
    }
    return stored;
  }

  /** Up to `limit` lines after line number `after`, as copies. */
  read(id: string, after: number, limit: number): TaskLogLine[] {
    return structuredClone((this.logs.get(id) ?? []).filter((line) => line.seq > after).slice(0, limit));
  }

  delete(id: string): void {
    this.logs.delete(id);
  }
}
