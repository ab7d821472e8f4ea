/**
 * The store methods that append events, per store: after each, this process's sequencer is
 * woken so the events are numbered (and delivered) within milliseconds instead of at the next
 * periodic pass. Reads are left alone (they would cost a pointless sequencer probe each).
 */
export const EVENT_WRITING_METHODS = {
  kv: ['insert', 'upsert', 'update', 'delete', 'increment', 'importEntries', 'deleteExpired'],
  tasks: [
    'insert',
    'claim',
    'updateProgress',
    'finish',
    'requestCancel',
    'retry',
    'stopSchedule',
    'appendLogs',
    'reapExpiredLeases',
    'spawnOccurrence',
  ],
  auth: ['createOwnerIfNone', 'insertToken', 'revokeToken', 'rotateToken'],
  docs: ['commit'],
} as const;

/**
 * The same store, with `wake` called after each of `methods` settles: `wake(true)` when it
 * succeeded (it most likely appended events, so the pass need not probe first; when it changed
 * nothing, the pass that finds nothing costs about what the probe would have), `wake(false)`
 * when it failed. A method that answers an empty list (a claim or a finish that took no task,
 * a reaper or sweeper round that found nothing) wrote nothing, so it wakes nobody: on an idle
 * worker those were two claims and three sequencer passes per task, and a pass per reaper and
 * sweeper tick. Every other property is the store's own (functions bound to it), so the
 * store's behaviour is unchanged.
 *
 * @example
 * const kv = wakeAfterWrites(storage.kv, EVENT_WRITING_METHODS.kv, (appended) => sequencer.wake({ appended }));
 */
export function wakeAfterWrites<T extends object>(
  store: T,
  methods: readonly string[],
  wake: (appended: boolean) => void,
): T {
  const wrapped = new Set(methods);
  // Keyed by property, remembering which function was wrapped (a test may replace a method).
  const cache = new Map<PropertyKey, { original: unknown; fn: unknown }>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const cached = cache.get(property);
      if (cached?.original === value) return cached.fn;
      const original = value as (...args: unknown[]) => unknown;
      const fn = wrapped.has(String(property))
        ? async (...args: unknown[]) => {
            let result: unknown;
            try {
              result = await original.apply(target, args);
            } catch (error) {
              wake(false);
              throw error;
            }
            if (!(Array.isArray(result) && result.length === 0)) wake(true);
            return result;
          }
        : original.bind(target);
      cache.set(property, { original, fn });
      return fn;
    },
  });
}
