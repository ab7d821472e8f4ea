/**
 * The SQL floor of ProServer's drain on PostgreSQL: the same tasks, queued the same way, drained
 * by the store's own statements alone (claim up to 500, finish them as completed, two such loops
 * at once, and the event sequencer numbering their `task.*` events in a loop of its own), with
 * no worker engine, no handlers and no slots. It answers the question "how fast could any worker
 * on this store drain?": what a task costs the database here (its row kept, two events in the
 * log, SPEC §3 and §4) bounds the engine's throughput whatever the Node.js side does.
 */
import { timeDrain } from '../lib/drain.mjs';

/** Claim/finish loops at once (two: the worker's claim rounds and its outcome writer overlap the same way). */
const LOOPS = 2;
/** Tasks per claim and per finish: the outcome writer's batch (OutcomeWriter's FINISH_BATCH). */
const BATCH = 500;

let counter = 0;
const change = {
  actor: 'system',
  ids: { next: (prefix) => `${prefix}_floor${process.pid}_${(counter++).toString(36)}` },
};

const completed = (task) => ({
  id: task.id,
  attempt: task.attempt,
  status: 'completed',
  release: false,
  result: null,
  error: null,
  runAt: null,
  progress: null,
  stage: null,
  stages: [],
});

/** Claims and finishes batches until a claim finds nothing. */
async function claimFinishLoop(store, workerId, type) {
  for (;;) {
    const now = new Date();
    const request = {
      workerId,
      slotClass: 'normal',
      limit: BATCH,
      types: [type],
      leaseExpiresAt: new Date(now.getTime() + 60_000),
      agedBefore: new Date(now.getTime() - 60_000),
    };
    const claimed = await store.claim(request, now, change);
    if (claimed.length === 0) return;
    await store.finish(workerId, claimed.map(completed), new Date(), change);
  }
}

/**
 * `tools`: the ProServer bench module's `openStorage`, `startCore` and `submitInChunks`, so the
 * tasks are queued exactly as in ProServer's drain.
 */
export async function sqlFloorDrain(settings, { openStorage, startCore, submitInChunks, noWorkers }) {
  const storage = await openStorage();
  const count = settings.drainCount;
  const type = 'bench.noop';
  const submitter = startCore(storage, noWorkers, { [type]: { run: () => null } });
  let drained;
  try {
    const inputs = Array.from({ length: count }, (_, n) => ({ type, payload: { n } }));
    return await timeDrain({
      count,
      submitAll: () => submitInChunks(submitter, inputs),
      startWorkers: () => {
        let loopsDone = false;
        const loops = Array.from({ length: LOOPS }, (_, n) => claimFinishLoop(storage.tasks, `floor-${n}`, type));
        const sequencer = (async () => {
          while (!loopsDone) await storage.events.sequencePending({ wait: true, likelyPending: true });
        })();
        drained = Promise.all(loops).then(async () => {
          loopsDone = true;
          await sequencer;
          // The last finishes' events: the drain ends when they are numbered, as ProServer's does.
          await storage.events.sequencePending({ wait: true });
        });
      },
      allCompleted: () => drained,
      timeoutMs: settings.drainTimeoutMs,
    });
  } finally {
    await drained?.catch(() => {});
    await submitter.close();
  }
}
