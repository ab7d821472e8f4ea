import type { EventsClient } from './events-client.js';
import { paginate } from './pagination.js';
import type {
  SubmitTaskInput,
  SubmitTaskOptions,
  TaskListOptions,
  TaskLogOptions,
  WaitOptions,
} from './task-inputs.js';
import type { Task, TaskLogPage, TaskResultView, TaskStatusView, TaskTypeInfo, TaskWithLinks } from './task-types.js';
import { waitForTask } from './task-wait-events.js';
import type { Transport } from './transport.js';
import type { Page, PageOptions } from './types.js';

const BASE = '/tasks';

/**
 * Tasks (`/api/tasks`, SPEC §3). Reached as `client.tasks`. Submitting is one call; waiting
 * is another (`wait`), or the server's own short wait with `submit(…, {waitSeconds})`.
 *
 * @example
 * const task = await client.tasks.submit({ type: 'diagnostics.echo', payload: { value: 'hi' } }, { idempotencyKey: 'ci-42' });
 * const done = await client.tasks.wait(task.id, { onProgress: (s) => console.log(s.progress?.percent ?? 0, s.stage) });
 * if (done.status === 'completed') console.log((await client.tasks.result(done.id)).result);
 */
export interface TasksClient {
  /**
   * Submits a task. With `waitSeconds` the server answers once the task is final or after that
   * many seconds (whichever comes first); check `status` to see which.
   */
  submit(input: SubmitTaskInput, options?: SubmitTaskOptions): Promise<TaskWithLinks>;
  get(id: string): Promise<TaskWithLinks>;
  /** One page of tasks, newest first. */
  list(options?: TaskListOptions): Promise<Page<Task>>;
  /** Every page, following the cursors (starting at `options.cursor` if given). */
  listAll(options?: TaskListOptions): AsyncIterable<Page<Task>>;
  status(id: string): Promise<TaskStatusView>;
  /** The result once completed; the stages so far while running. */
  result(id: string): Promise<TaskResultView>;
  logs(id: string, options?: TaskLogOptions): Promise<TaskLogPage>;
  /**
   * Cancels: a pending task at once; a running one is asked to stop (the answer may still say
   * `running`; `wait` shows `cancelled`). A final task: `TASK_NOT_CANCELLABLE` (409).
   */
  cancel(id: string): Promise<TaskWithLinks>;
  /** Runs a failed or cancelled task again with a fresh attempt budget; others: `CONFLICT` (409). */
  retry(id: string): Promise<TaskWithLinks>;
  /** One page of the runs a recurring task spawned, newest first. */
  runs(id: string, options?: PageOptions): Promise<Page<Task>>;
  /** Ends a recurring task: no more runs (runs already spawned go on). */
  stopRecurring(id: string): Promise<TaskWithLinks>;
  /** The task types the caller may read or submit, with their payload JSON Schemas. */
  types(): Promise<TaskTypeInfo[]>;
  /**
   * Resolves with the task once it is final (completed, failed or cancelled: check `status`).
   * Watches the task's events over the WebSocket when one is available (falling back to
   * polling its status when the socket cannot connect); `via` forces one way. Rejects with
   * `WAIT_TIMEOUT` (status 0) after `timeoutMs`.
   */
  wait(id: string, options?: WaitOptions): Promise<TaskWithLinks>;
}

/** Builds the task section of a client (`events`, when given, lets `wait` use the WebSocket). */
export function createTasksClient(transport: Transport, events?: EventsClient): TasksClient {
  const taskPath = (id: string) => `${BASE}/${encodeURIComponent(id)}`;
  const list = (options: TaskListOptions = {}) =>
    transport.json<Page<Task>>({
      method: 'GET',
      path: BASE,
      query: {
        status: options.status,
        type: options.type,
        priority: options.priority,
        tag: options.tag,
        submitter: options.submitter,
        parentId: options.parentId,
        cursor: options.cursor,
        limit: options.limit,
      },
    });
  const status = (id: string) => transport.json<TaskStatusView>({ method: 'GET', path: `${taskPath(id)}/status` });
  const get = (id: string) => transport.json<TaskWithLinks>({ method: 'GET', path: taskPath(id) });

  return {
    submit(input, options = {}) {
      const headers: Record<string, string> = {};
      if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
      if (options.waitSeconds !== undefined) headers.prefer = `wait=${options.waitSeconds}`;
      return transport.json({ method: 'POST', path: BASE, json: input, headers });
    },
    get,
    list,
    listAll: (options = {}) => paginate((cursor) => list({ ...options, cursor }), options.cursor),
    status,
    result: (id) => transport.json({ method: 'GET', path: `${taskPath(id)}/result` }),
    logs: (id, options = {}) =>
      transport.json({
        method: 'GET',
        path: `${taskPath(id)}/logs`,
        query: { after: options.after, limit: options.limit },
      }),
    cancel: (id) => transport.json({ method: 'DELETE', path: taskPath(id) }),
    retry: (id) => transport.json({ method: 'POST', path: `${taskPath(id)}/retry` }),
    runs: (id, options = {}) =>
      transport.json({
        method: 'GET',
        path: `${taskPath(id)}/runs`,
        query: { cursor: options.cursor, limit: options.limit },
      }),
    stopRecurring: (id) => transport.json({ method: 'POST', path: `${taskPath(id)}/stop-recurring` }),
    async types() {
      const { items } = await transport.json<{ items: TaskTypeInfo[] }>({ method: 'GET', path: '/task-types' });
      return items;
    },
    async wait(id, options = {}) {
      await waitForTask(id, () => status(id), events, options);
      return get(id);
    },
  };
}
