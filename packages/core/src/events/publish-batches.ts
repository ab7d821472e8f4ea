import type { NewEvent } from '../storage/ports.js';

/** Appends events, numbers them, and answers the seq of each (absent: not numbered). */
export type WriteAndNumber = (events: NewEvent[]) => Promise<Map<string, number>>;

interface Queued {
  event: NewEvent;
  resolve: (seq: number | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Client events published in the same turn of the event loop are written together: one
 * append that numbers them (`EventStore.appendNumbered`: one inbox row, one transaction),
 * where each publish made a round trip of its own. A burst of publishes
 * (a handler announcing ten things at once) then costs the database about what one does.
 * The batch is written as one statement, so its events exist together or not at all: a
 * failed write rejects every publish in it. The first publish of a turn waits for nothing
 * but the end of that turn (`setImmediate`).
 *
 * @example
 * const batches = new PublishBatches(async (events) => (await store.appendNumbered(events)).seqs);
 * const seq = await batches.add(event);
 */
export class PublishBatches {
  private queued: Queued[] = [];

  constructor(private readonly writeAndNumber: WriteAndNumber) {}

  /** Resolves with the event's seq once it is numbered (undefined if the write did not number it). */
  add(event: NewEvent): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => void this.write());
      this.queued.push({ event, resolve, reject });
    });
  }

  private async write(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    try {
      const seqs = await this.writeAndNumber(batch.map((queued) => queued.event));
      for (const queued of batch) queued.resolve(seqs.get(queued.event.id));
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }
}
