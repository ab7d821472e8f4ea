import { describe, expect, it } from 'vitest';
import { wakeAfterWrites } from '../src/events/wake-after-writes.js';

/** A store whose `write` answers what the test hands it (or throws it). */
function store() {
  return {
    answer: undefined as unknown,
    async write(): Promise<unknown> {
      if (this.answer instanceof Error) throw this.answer;
      return this.answer;
    },
    async read(): Promise<string> {
      return 'read';
    },
  };
}

describe('wakeAfterWrites', () => {
  it('wakes the sequencer after a write (appended when it succeeded), never after a read', async () => {
    const wakes: boolean[] = [];
    const target = store();
    const wrapped = wakeAfterWrites(target, ['write'], (appended) => wakes.push(appended));
    target.answer = { id: 'x' };
    expect(await wrapped.write()).toEqual({ id: 'x' });
    target.answer = new Error('refused');
    await expect(wrapped.write()).rejects.toThrow('refused');
    expect(await wrapped.read()).toBe('read');
    expect(wakes).toEqual([true, false]);
  });

  it('does not wake after a write that answered an empty list (it wrote nothing)', async () => {
    const wakes: boolean[] = [];
    const target = store();
    const wrapped = wakeAfterWrites(target, ['write'], (appended) => wakes.push(appended));
    target.answer = [];
    expect(await wrapped.write()).toEqual([]);
    target.answer = ['task_1'];
    await wrapped.write();
    expect(wakes).toEqual([true]);
  });
});
