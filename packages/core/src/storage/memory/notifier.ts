import { EventEmitter } from 'node:events';
import type { Notifier } from '../ports.js';

/**
 * Wake-ups within one process (memory and PGlite storage, which only one process can open).
 * Delivery is asynchronous, like NOTIFY: a publisher never runs listeners on its own stack.
 *
 * @example
 * const notifier = createInProcessNotifier();
 * await notifier.subscribe('tasks', (payload) => console.log(payload));
 * await notifier.publish('tasks', 'normal');
 */
export function createInProcessNotifier(): Notifier {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(channel, payload) {
      queueMicrotask(() => emitter.emit(channel, payload));
    },
    async subscribe(channel, listener, options) {
      emitter.on(channel, listener);
      options?.onListen?.();
      return async () => {
        emitter.off(channel, listener);
      };
    },
  };
}
