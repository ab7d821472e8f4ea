import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { actorIdOf } from '../auth/actor.js';
import { authorize, can } from '../auth/scopes.js';
import type { Principal } from '../auth/types.js';
import type { Clock } from '../clock.js';
import { ProServerError } from '../errors.js';
import type { Ids } from '../ids.js';
import type { Logger } from '../logger.js';
import { type BackgroundLoop, startLoop } from '../loop.js';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.js';
import type { NewTask, Notifier, SlotClass, TaskRecord, TaskStore } from '../storage/ports.js';
import { isUnstorableText, parseInput } from '../validation.js';
import { echoTaskDefinition } from './echo-task.js';
import { TaskEventEmitter } from './events.js';
import { TaskMaintenance } from './maintenance.js';
import { TaskRegistry } from './registry.js';
import { buildNewTasks } from './submit-input.js';
import type { SubmitTaskInput, Task, TaskDefinition, TaskEngine } from './types.js';
import { listTasksOptionsSchema, readLogsOptionsSchema } from './validation.js';
import { isFinal, toResultView, toStatusView, toTask } from './views.js';
import { waitForFinal } from './wait.js';
import { TaskWorker } from './worker.js';
import { TASK_CHANNELS } from './worker-options.js';

/** Engine settings (all optional in `createCore({tasks})`; see {@link resolveTaskEngineSettings}). */
export interface TaskEngineSettings {
  /** Worker slots of this process per class (all 0: an API-only node that runs no tasks). */
  workers: Record<SlotClass, number>;
  leaseMs: number;
  heartbeatMs: number;
  pollIntervalMs: number;
  /** A batch task waiting longer than this is served by normal slots before normal work. */
  batchAgingMs: number;
  retentionMs: number;
  /** Loop intervals; 0 disables the loop (the passes stay callable through `maintenance`). */
  reaperIntervalMs: number;
  schedulerIntervalMs: number;
  purgeIntervalMs: number;
  maxPayloadBytes: number;
  logLinesPerTask: number;
  progressIntervalMs: number;
  shutdownGraceMs: number;
  idempotencyWindowMs: number;
  random: () => number;
}

export interface TaskEngineOptions {
  store: TaskStore;
  notifier: Notifier;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  settings: TaskEngineSettings;
}

/** At most this many tasks per `submitMany` call. */
export const MAX_SUBMIT_BATCH = 10_000;
const MAX_ID_LENGTH = 64;

interface TaskCursor extends Record<string, unknown> {
  b: string;
}
const isTaskCursor = (v: Record<string, unknown>): v is TaskCursor =>
  typeof v.b === 'string' && v.b.length <= MAX_ID_LENGTH;

/**
 * The task engine (SPEC §3): the service API, the worker of this process and the background
 * loops, over one {@link TaskStore}. Reached as `core.tasks`.
 *
 * @example
 * const engine = createTaskEngine({ store, notifier, clock, ids, logger, settings });
 * engine.define({ type: 'report.build', payload: z.object({}), run: async () => ({ ok: true }) });
 */
export function createTaskEngine(options: TaskEngineOptions): TaskEngine {
  const { store, notifier, clock, ids, logger, settings } = options;
  const events = new TaskEventEmitter();
  const registry = new TaskRegistry();
  registry.define(echoTaskDefinition as unknown as TaskDefinition);
  const workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const worker = new TaskWorker({
    store,
    notifier,
    clock,
    ids,
    events,
    registry,
    workerId,
    slots: settings.workers,
    leaseMs: settings.leaseMs,
    heartbeatMs: settings.heartbeatMs,
    pollIntervalMs: settings.pollIntervalMs,
    batchAgingMs: settings.batchAgingMs,
    logCap: settings.logLinesPerTask,
    progressIntervalMs: settings.progressIntervalMs,
    shutdownGraceMs: settings.shutdownGraceMs,
    random: settings.random,
  });
  const maintenance = new TaskMaintenance({
    store,
    notifier,
    clock,
    ids,
    events,
    retentionMs: settings.retentionMs,
    wakeLocal: (critical) => worker.wake(critical),
    workerId,
  });
  events.on('error', ({ where, error }) => logger.error(`${where} failed`, { error: String(error) }));

  const loops: BackgroundLoop[] = [];
  const loop = (name: string, intervalMs: number, run: () => Promise<unknown>) => {
    if (intervalMs > 0) loops.push(startLoop({ name, intervalMs, logger, run: async () => void (await run()) }));
  };
  loop('task-lease-reaper', settings.reaperIntervalMs, () => maintenance.reapExpiredLeases());
  loop('task-scheduler', settings.schedulerIntervalMs, () => maintenance.spawnDueOccurrences());
  loop('task-retention', settings.purgeIntervalMs, () => maintenance.purgeFinished());
  if (worker.capacity > 0) {
    worker.start().catch((error: unknown) => events.emit('error', { where: 'task worker start', error }));
  }

  const load = async (id: string): Promise<TaskRecord> => {
    // An id no task can have (too long, or text the database cannot hold) is not looked up.
    const record =
      typeof id === 'string' && id.length <= MAX_ID_LENGTH && !isUnstorableText(id) ? await store.get(id) : null;
    if (!record) throw new ProServerError('NOT_FOUND', `task ${String(id).slice(0, MAX_ID_LENGTH)} does not exist`);
    return record;
  };
  /** Loads a task the actor may `read`/`write` (scopes narrowed by task type). */
  const loadFor = async (actor: Principal, id: string, access: 'tasks:read' | 'tasks:write'): Promise<TaskRecord> => {
    authorize(actor, access);
    const record = await load(id);
    authorize(actor, access, record.type);
    return record;
  };

  const submitMany = async (actor: Principal, inputs: readonly SubmitTaskInput[]): Promise<Task[]> => {
    authorize(actor, 'tasks:write');
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_SUBMIT_BATCH) {
      throw new ProServerError('VALIDATION_FAILED', `submit 1 to ${MAX_SUBMIT_BATCH} tasks at once`, {
        errors: [{ path: '', message: `must be a list of 1 to ${MAX_SUBMIT_BATCH} tasks` }],
      });
    }
    const now = clock.now();
    const rows = buildNewTasks(actor, inputs, { registry, ids, now, maxPayloadBytes: settings.maxPayloadBytes });
    const isDue = (task: NewTask | TaskRecord) => !task.isSchedule && task.runAt.getTime() <= now.getTime();
    // One due task and an idle slot here: the store may insert it already claimed by this
    // worker, which then starts it without a claim round trip (see TaskHandoff).
    const [only] = rows;
    const offer =
      rows.length === 1 && only && isDue(only) && only.concurrencyKey === null && only.idempotencyKey === null
        ? worker.offerHandoff(only.priority)
        : null;
    // The store sends the other nodes' wake-ups once the insert committed, never inside its
    // transaction: there a NOTIFY takes PostgreSQL's global notify lock at commit and
    // serialises every notifying commit. It sends none when the task was handed off here (a
    // resubmitted idempotent task still wakes them in vain).
    let inserted: { task: TaskRecord; created: boolean }[];
    try {
      const change = { actor: actorIdOf(actor), ids };
      inserted = await store.insert(rows, now, new Date(now.getTime() - settings.idempotencyWindowMs), change, {
        wakeUps: maintenance.wakeUps(rows.filter(isDue)),
        ...(offer ? { handoff: offer } : {}),
      });
    } catch (error) {
      if (offer) worker.settleHandoff(offer, []);
      throw error;
    }
    const created = inserted.filter((i) => i.created).map((i) => i.task);
    for (const task of created)
      events.emit('task.submitted', { id: task.id, type: task.type, priority: task.priority });
    const handedOver = offer ? worker.settleHandoff(offer, created) : null;
    maintenance.wakeLocal(created.filter((task) => isDue(task) && task !== handedOver));
    return inserted.map((i) => toTask(i.task));
  };

  const listPage = async (actor: Principal, filters: Record<string, unknown>): Promise<Page<Task>> => {
    authorize(actor, 'tasks:read');
    const parsed = parseInput(listTasksOptionsSchema, filters, 'list options');
    const { cursor, limit = DEFAULT_PAGE_LIMIT, ...query } = parsed;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor, isTaskCursor).b;
    const records = await store.list({ ...query, limit: limit + 1, ...(beforeId ? { beforeId } : {}) });
    const scanned = records.slice(0, limit);
    const last = scanned.at(-1);
    // The cursor follows the last scanned task, so a page of tasks the actor may not see still advances.
    const nextCursor = records.length > limit && last ? encodeCursor({ b: last.id }) : null;
    return { items: scanned.filter((r) => can(actor, 'tasks:read', r.type)).map(toTask), nextCursor };
  };

  return {
    workerId,
    define: (definition) => registry.define(definition as unknown as TaskDefinition),
    types: () => registry.info(),
    submitMany,
    async submit(actor, input) {
      const [task] = await submitMany(actor, [input]);
      return task as Task;
    },
    get: async (actor, id) => toTask(await loadFor(actor, id, 'tasks:read')),
    list: (actor, listOptions = {}) => listPage(actor, { ...listOptions }),
    status: async (actor, id) => toStatusView(await loadFor(actor, id, 'tasks:read')),
    result: async (actor, id) => toResultView(await loadFor(actor, id, 'tasks:read')),
    async logs(actor, id, logOptions = {}) {
      await loadFor(actor, id, 'tasks:read');
      const { after = 0, limit = 100 } = parseInput(readLogsOptionsSchema, logOptions, 'log options');
      const items = await store.readLogs(id, after, limit);
      return { items, nextAfter: items.at(-1)?.seq ?? null };
    },
    async cancel(actor, id) {
      const record = await loadFor(actor, id, 'tasks:write');
      const notCancellable = (status: string) =>
        new ProServerError('TASK_NOT_CANCELLABLE', `task ${id} is ${status} and cannot be cancelled`, {
          details: { status },
        });
      if (isFinal(record.status)) throw notCancellable(record.status);
      const after = await store.requestCancel(id, clock.now(), { actor: actorIdOf(actor), ids });
      if (!after) throw new ProServerError('NOT_FOUND', `task ${id} does not exist`);
      if (after.status === 'running') {
        worker.abort(id, 'cancelled');
        await notifier.publish(TASK_CHANNELS.cancel, id);
      } else if (after.status === 'cancelled') {
        events.emit('task.cancelled', { id, type: after.type });
      } else {
        throw notCancellable(after.status);
      }
      return toTask(after);
    },
    async retry(actor, id) {
      const record = await loadFor(actor, id, 'tasks:write');
      const after = await store.retry(id, clock.now(), { actor: actorIdOf(actor), ids });
      if (!after) {
        throw new ProServerError(
          'CONFLICT',
          record.isSchedule
            ? `task ${id} is a recurring task: its runs can be retried, not the schedule`
            : `task ${id} is ${record.status}; only failed or cancelled tasks can be retried`,
          { details: { status: record.status } },
        );
      }
      await maintenance.announce([after]);
      return toTask(after);
    },
    async stopRecurring(actor, id) {
      const record = await loadFor(actor, id, 'tasks:write');
      if (!record.isSchedule) throw new ProServerError('CONFLICT', `task ${id} is not a recurring task`);
      const after = await store.stopSchedule(id, clock.now(), { actor: actorIdOf(actor), ids });
      // Stopping a schedule that already ended is not an error: it is stopped either way.
      return toTask(after ?? (await load(id)));
    },
    async runs(actor, id, runOptions = {}) {
      await loadFor(actor, id, 'tasks:read');
      return listPage(actor, { ...runOptions, parentId: id });
    },
    waitForFinal: (id, timeoutMs) => waitForFinal({ id, timeoutMs, load, events }),
    queueDepths: () => store.queueDepths(),
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    wake: () => worker.wake(true),
    runningIds: () => worker.runningIds(),
    maintenance: {
      reapExpiredLeases: () => maintenance.reapExpiredLeases(),
      spawnDueOccurrences: () => maintenance.spawnDueOccurrences(),
      purgeFinished: () => maintenance.purgeFinished(),
    },
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      await worker.stop();
    },
  };
}
