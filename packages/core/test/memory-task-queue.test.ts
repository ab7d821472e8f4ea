import { describe, expect, it } from 'vitest';
import { PendingQueue } from '../src/storage/memory/task-queue.js';
import type { TaskRecord } from '../src/storage/ports.js';

const task = (fairSeq: number, id = `t${String(fairSeq).padStart(6, '0')}`) =>
  ({ id, fairSeq, runAt: new Date(fairSeq) }) as TaskRecord;

describe('the memory backend pending queue', () => {
  it('keeps (fairSeq, id) order through adds, removals from the front (with compaction) and from the middle', () => {
    const queue = new PendingQueue();
    const tasks = Array.from({ length: 3000 }, (_, i) => task(i));
    for (const t of [...tasks].reverse()) queue.add(t);
    for (const t of tasks.slice(0, 2000)) queue.remove(t); // from the front: compacts on the way
    queue.remove(task(2500)); // an equal record (same fairSeq and id) from the middle
    queue.remove(task(99_999)); // not queued: nothing happens
    queue.add(task(1999)); // goes back in front
    queue.add(task(2400, 't002400b')); // same fairSeq: ordered by id
    const ids = [...queue].map((t) => t.id);
    expect(queue.size).toBe(1001);
    expect(ids.slice(0, 2)).toEqual(['t001999', 't002000']);
    expect(ids).not.toContain('t002500');
    expect(ids.indexOf('t002400b')).toBe(ids.indexOf('t002400') + 1);
    expect(queue.headSeq(2000)).toBe(1999);
    expect(queue.headSeq(1000)).toBeUndefined();
  });
});
