import { describe, expect, it } from 'vitest';
import { PublishBatches } from '../src/events/publish-batches.js';
import type { NewEvent } from '../src/storage/ports.js';

const event = (id: string): NewEvent => ({
  id,
  type: 'custom.test',
  subject: 'custom.test',
  data: null,
  actor: 'system',
  at: new Date('2026-11-28T09:00:00.000Z'),
});

describe('PublishBatches', () => {
  it('writes the publishes of one turn of the event loop together, and each gets its own seq', async () => {
    const writes: string[][] = [];
    let next = 10;
    const batches = new PublishBatches(async (events) => {
      writes.push(events.map((e) => e.id));
      return new Map(events.map((e) => [e.id, ++next]));
    });
    const first = await Promise.all([batches.add(event('a')), batches.add(event('b')), batches.add(event('c'))]);
    const later = await batches.add(event('d'));
    expect(first).toEqual([11, 12, 13]);
    expect(later).toBe(14);
    expect(writes).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('rejects every publish of a batch whose write failed, and writes the next batch anyway', async () => {
    let fail = true;
    const batches = new PublishBatches(async (events) => {
      if (fail) throw new Error('connection lost');
      return new Map(events.map((e, n) => [e.id, n + 1]));
    });
    const failed = await Promise.allSettled([batches.add(event('a')), batches.add(event('b'))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batches.add(event('c'))).toBe(1);
  });

  it('answers undefined for an event the write did not number', async () => {
    const batches = new PublishBatches(async () => new Map());
    expect(await batches.add(event('a'))).toBeUndefined();
  });
});
