/**
 * `/api/tasks` and `/api/task-types` (SPEC §3). Routes validate the query or body with core's
 * schemas and call one `core.tasks` method; the task service checks `tasks:read` /
 * `tasks:write` (narrowed by task type) itself, so a missing scope is its 403.
 */
import { authorize, type Core, can, listTasksOptionsSchema, readLogsOptionsSchema } from '@proserver/core';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { readJsonBody } from '../body.js';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';
import { methodNotAllowed } from '../problem.js';
import { pageQuerySchema, readQuery } from '../query.js';
import { submitTask, withLinks } from './tasks-submit.js';

/** Actions take no input; a body, if any, must be the empty object. */
const noInputSchema = z.strictObject({});

/**
 * The task routes, mounted at `<basePath>/tasks` behind the auth middleware.
 *
 * @example
 * api.route('/tasks', taskRoutes(core, options));
 */
export function taskRoutes(core: Core, options: ResolvedAppOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const tasks = core.tasks;
  const { basePath } = options;
  const principal = (c: Context<AppEnv>) => c.get('principal');
  const id = (c: Context<AppEnv>) => c.req.param('id') ?? '';
  const noInput = (c: Context<AppEnv>) =>
    readJsonBody(c, noInputSchema, { maxBytes: options.maxBodyBytes, optional: true });

  routes.post('/', (c) => submitTask(c, core, options));
  routes.get('/', async (c) => c.json(await tasks.list(principal(c), readQuery(c, listTasksOptionsSchema))));
  routes.all('/', methodNotAllowed(['GET', 'HEAD', 'POST']));

  routes.get('/:id', async (c) => c.json(withLinks(basePath, await tasks.get(principal(c), id(c)))));
  // Cancelling a running task only asks its handler to stop: the answer shows it still
  // running until the handler has stopped (then `cancelled`).
  routes.delete('/:id', async (c) => c.json(withLinks(basePath, await tasks.cancel(principal(c), id(c)))));
  routes.all('/:id', methodNotAllowed(['GET', 'HEAD', 'DELETE']));

  routes.get('/:id/status', async (c) => c.json(await tasks.status(principal(c), id(c))));
  routes.all('/:id/status', methodNotAllowed(['GET', 'HEAD']));

  routes.get('/:id/result', async (c) => c.json(await tasks.result(principal(c), id(c))));
  routes.all('/:id/result', methodNotAllowed(['GET', 'HEAD']));

  routes.get('/:id/logs', async (c) => {
    const query = readQuery(c, readLogsOptionsSchema);
    return c.json(await tasks.logs(principal(c), id(c), query));
  });
  routes.all('/:id/logs', methodNotAllowed(['GET', 'HEAD']));

  routes.get('/:id/runs', async (c) => {
    const query = readQuery(c, pageQuerySchema);
    return c.json(await tasks.runs(principal(c), id(c), query));
  });
  routes.all('/:id/runs', methodNotAllowed(['GET', 'HEAD']));

  routes.post('/:id/retry', async (c) => {
    await noInput(c);
    const answer = withLinks(basePath, await tasks.retry(principal(c), id(c)));
    c.header('Location', answer.links.self);
    return c.json(answer, 202);
  });
  routes.all('/:id/retry', methodNotAllowed(['POST']));

  routes.post('/:id/stop-recurring', async (c) => {
    await noInput(c);
    return c.json(withLinks(basePath, await tasks.stopRecurring(principal(c), id(c))));
  });
  routes.all('/:id/stop-recurring', methodNotAllowed(['POST']));
  return routes;
}

/**
 * `GET <basePath>/task-types` → `{items: [{type, description, priority, timeoutMs, retry,
 * payloadSchema}]}`: the types the caller may read or submit (any `tasks:read` or
 * `tasks:write` scope, narrowed scopes seeing their own types), with each payload's JSON Schema.
 *
 * @example
 * api.route('/task-types', taskTypeRoutes(core));
 */
export function taskTypeRoutes(core: Core): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get('/', (c) => {
    const principal = c.get('principal');
    readQuery(c, z.strictObject({}));
    if (!can(principal, 'tasks:write')) authorize(principal, 'tasks:read');
    const items = core.tasks
      .types()
      .filter((info) => can(principal, 'tasks:read', info.type) || can(principal, 'tasks:write', info.type));
    return c.json({ items });
  });
  routes.all('/', methodNotAllowed(['GET', 'HEAD']));
  return routes;
}
