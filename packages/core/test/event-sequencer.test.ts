import { describe, expect, it } from 'vitest';
import { EventSequencer, type SequencerOptions } from '../src/events/sequencer.js';
import type { Logger } from '../src/logger.js';
import type { EventStore, Notifier, SequenceResult } from '../src/storage/ports.js';

interface Pass {
  /** Ends the pass; `announced`: the store told the other nodes itself. */
  finish: (lastSeq: number | null, announced?: boolean) => void;
  fail: (error: Error) => void;
  /** Whether the pass was told events are pending (so it skips its probe). */
  likelyPending: boolean;
}

/** A sequencer over a store whose passes end when the test says so. */
function setUp(spacing: Pick<SequencerOptions, 'minPassIntervalMs' | 'now' | 'wait'> = { minPassIntervalMs: 0 }) {
  const passes: Pass[] = [];
  const store = {
    sequencePending: (options: { likelyPending?: boolean } = {}) =>
      new Promise<SequenceResult>((resolve, reject) => {
        passes.push({
          finish: (lastSeq, announced = false) => resolve({ lastSeq, busy: false, announced }),
          fail: reject,
          likelyPending: options.likelyPending === true,
        });
      }),
  } as unknown as EventStore;
  const published: string[] = [];
  const notifier = {
    publish: async (_channel: string, payload: string) => {
      published.push(payload);
    },
  } as unknown as Notifier;
  const logger = { error: () => {} } as unknown as Logger;
  const announced: number[] = [];
  const sequencer = new EventSequencer({
    store,
    notifier,
    logger,
    intervalMs: 0,
    onSequenced: (seq) => announced.push(seq),
    ...spacing,
  });
  return { sequencer, passes, announced, published };
}

/** Lets queued promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Records when each promise settles. */
function track(promise: Promise<void>) {
  const state = { done: false, error: undefined as unknown };
  promise.then(
    () => {
      state.done = true;
    },
    (error) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
}

describe('EventSequencer.sequenceNow', () => {
  it('shares one pass between callers that arrive before it starts', async () => {
    const { sequencer, passes, announced } = setUp();
    const callers = Array.from({ length: 10 }, () => track(sequencer.sequenceNow()));
    await settle();
    expect(passes).toHaveLength(1);
    passes[0]?.finish(7);
    await settle();
    expect(callers.every((c) => c.done && c.error === undefined)).toBe(true);
    expect(announced).toEqual([7]);
    expect(passes).toHaveLength(1);
  });

  it('gives callers that arrive during a pass the next pass, not the one under way', async () => {
    const { sequencer, passes } = setUp();
    const first = track(sequencer.sequenceNow());
    await settle();
    expect(passes).toHaveLength(1);
    // The running pass may have taken its snapshot before these callers' events committed.
    const late = [track(sequencer.sequenceNow()), track(sequencer.sequenceNow())];
    await settle();
    expect(passes).toHaveLength(1);
    passes[0]?.finish(1);
    await settle();
    expect(first.done).toBe(true);
    expect(late.some((c) => c.done)).toBe(false);
    expect(passes).toHaveLength(2);
    passes[1]?.finish(2);
    await settle();
    expect(late.every((c) => c.done && c.error === undefined)).toBe(true);
    expect(passes).toHaveLength(2);
  });

  it('reports a failed pass to its own callers and still runs the next one', async () => {
    const { sequencer, passes } = setUp();
    const first = track(sequencer.sequenceNow());
    await settle();
    const next = track(sequencer.sequenceNow());
    passes[0]?.fail(new Error('connection lost'));
    await settle();
    expect(first.error).toBeInstanceOf(Error);
    expect(passes).toHaveLength(2);
    passes[1]?.finish(3);
    await settle();
    expect(next.done).toBe(true);
    expect(next.error).toBeUndefined();
  });

  it('skips the probe of a pass when one of its callers has just appended, and only of that pass', async () => {
    const { sequencer, passes } = setUp();
    const reader = sequencer.sequenceNow();
    const writer = sequencer.sequenceNow({ appended: true });
    await settle();
    passes[0]?.finish(3);
    await Promise.all([reader, writer]);
    const later = sequencer.sequenceNow();
    await settle();
    passes[1]?.finish(3);
    await later;
    expect(passes.map((pass) => pass.likelyPending)).toEqual([true, false]);
  });
});

describe('EventSequencer.wake', () => {
  it('starts a pass at once, then the next no sooner than minPassIntervalMs after it, with every wake-up meanwhile', async () => {
    let clock = 1000;
    const waits: { ms: number; release: () => void }[] = [];
    const { sequencer, passes } = setUp({
      minPassIntervalMs: 5,
      now: () => clock,
      wait: (ms) => new Promise<void>((release) => waits.push({ ms, release })),
    });
    sequencer.wake({ appended: true });
    await settle();
    expect(passes).toHaveLength(1);
    expect(waits).toHaveLength(0);
    clock += 2;
    sequencer.wake({ appended: true });
    passes[0]?.finish(1);
    await settle();
    // 2 ms after the first pass started: the next waits 3 more, and the writes meanwhile join it.
    expect(waits.map((w) => w.ms)).toEqual([3]);
    for (let n = 0; n < 5; n++) sequencer.wake({ appended: true });
    await settle();
    expect(passes).toHaveLength(1);
    clock += 3;
    waits[0]?.release();
    await settle();
    expect(passes).toHaveLength(2);
    passes[1]?.finish(6);
    await settle();
    expect(passes).toHaveLength(2);
    // A write long after the last pass: its pass starts at once.
    clock += 60_000;
    sequencer.wake({ appended: true });
    await settle();
    expect(passes).toHaveLength(3);
    expect(waits).toHaveLength(1);
  });

  it('skips the probe when woken by a write that appended, and not when woken otherwise', async () => {
    const { sequencer, passes } = setUp();
    sequencer.wake({ appended: true });
    await settle();
    passes[0]?.finish(4);
    await settle();
    sequencer.wake();
    await settle();
    passes[1]?.finish(null);
    await settle();
    expect(passes.map((pass) => pass.likelyPending)).toEqual([true, false]);
  });

  it('publishes what a pass numbered unless the store announced it already, and tells its own tailer either way', async () => {
    const { sequencer, passes, announced, published } = setUp();
    sequencer.wake();
    await settle();
    passes[0]?.finish(5);
    await settle();
    sequencer.wake();
    await settle();
    passes[1]?.finish(9, true);
    await settle();
    expect(announced).toEqual([5, 9]);
    expect(published).toEqual(['5']);
  });

  it('announces events numbered outside its passes (a publish) the same way, and nothing when none were', async () => {
    const { sequencer, passes, announced, published } = setUp();
    await sequencer.numbered({ lastSeq: 4, announced: false });
    await sequencer.numbered({ lastSeq: 6, announced: true });
    await sequencer.numbered({ lastSeq: null, announced: true });
    expect(announced).toEqual([4, 6]);
    expect(published).toEqual(['4']);
    expect(passes).toHaveLength(0);
  });
});
