/**
 * Fire-and-forget wake-ups between processes sharing one database. Delivery is best effort:
 * every consumer also polls, so a lost message only delays work, never loses it.
 *
 * @example
 * const unsubscribe = await storage.notifier.subscribe('tasks', (payload) => worker.wake(payload));
 * await storage.notifier.publish('tasks', 'critical');
 */
/** A notification to publish once a write committed (see `TaskStore.insert`). */
export interface WakeUp {
  channel: string;
  payload: string;
}

export interface Notifier {
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Resolves once listening (so a publish after it is seen); returns the unsubscribe function.
   * `onListen` runs each time listening (re)starts: messages published while a listener was
   * reconnecting are lost, so a consumer that caches can clear its cache there.
   */
  subscribe(
    channel: string,
    listener: (payload: string) => void,
    options?: { onListen?: () => void },
  ): Promise<() => Promise<void>>;
}
