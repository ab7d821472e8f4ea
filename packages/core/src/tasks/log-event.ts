import type { JsonValue } from '../kv/types.js';
import { TASK_LOG_EVENT_LINES, TASK_LOG_EVENT_MESSAGE_CHARS } from './event-data.js';
import type { TaskLogLine } from './types.js';

/**
 * What a `task.log` event adds to the task data: how many lines were stored and the first
 * {@link TASK_LOG_EVENT_LINES} of them (messages cut to {@link TASK_LOG_EVENT_MESSAGE_CHARS}
 * characters, no fields), so a chatty handler produces small events; the full lines are read
 * from the task's logs from `firstSeq` on.
 *
 * @example
 * logEventExtra(storedLines); // { lineCount: 3, firstSeq: 1, lines: [{ seq: 1, at, level: 'info', message: '…' }, …] }
 */
export function logEventExtra(
  stored: readonly Pick<TaskLogLine, 'seq' | 'at' | 'level' | 'message'>[],
): Record<string, JsonValue> {
  return {
    lineCount: stored.length,
    firstSeq: stored[0]?.seq ?? 0,
    lines: stored.slice(0, TASK_LOG_EVENT_LINES).map((line) => ({
      seq: line.seq,
      at: line.at,
      level: line.level,
      message: line.message.slice(0, TASK_LOG_EVENT_MESSAGE_CHARS),
    })),
  };
}
