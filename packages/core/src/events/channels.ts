/**
 * Notifier channel on which a sequencer pass (or the memory log) announces newly numbered
 * events; the payload is the highest new seq. Every node's tailer listens to it.
 */
export const EVENTS_CHANNEL = 'events';
