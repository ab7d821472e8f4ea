import type { Notifier, WakeUp } from './ports.js';

/**
 * Publishes `wakeUps` through `notifier`, one after the other (the stores' fallback when they
 * cannot send them behind their write, and the task engine's own announcements).
 *
 * @example
 * await publishWakeUps(notifier, [{ channel: 'tasks', payload: 'normal node-1' }]);
 */
export async function publishWakeUps(notifier: Notifier, wakeUps: readonly WakeUp[]): Promise<void> {
  for (const wakeUp of wakeUps) await notifier.publish(wakeUp.channel, wakeUp.payload);
}
