/**
 * Health and status (SPEC §1): `GET /health` for load balancers (no auth, 200 or 503),
 * `GET <basePath>/ping` for a cheap liveness check, `GET <basePath>` for details (any valid
 * token).
 */
import type { Core, TaskPriority } from '@proserver/core';
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';
import { methodNotAllowed } from '../problem.js';

async function pingStorage(core: Core): Promise<{ ok: boolean; latencyMs: number }> {
  const started = performance.now();
  let ok = true;
  try {
    await core.storage.ping();
  } catch {
    ok = false;
  }
  return { ok, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
}

/**
 * `GET /health` → `{status: "ok"|"down", version}`, 503 when the storage does not answer.
 *
 * @example
 * app.route('/', healthRoutes(core, options));
 */
export function healthRoutes(core: Core, options: ResolvedAppOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get('/health', async (c) => {
    const { ok } = await pingStorage(core);
    return c.json({ status: ok ? 'ok' : 'down', version: options.version }, ok ? 200 : 503);
  });
  routes.all('/health', methodNotAllowed(['GET', 'HEAD']));
  return routes;
}

/**
 * `GET <basePath>/ping` → `pong` (text, no auth).
 *
 * @example
 * api.route('/', pingRoutes());
 */
export function pingRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get('/ping', (c) => c.text('pong'));
  routes.all('/ping', methodNotAllowed(['GET', 'HEAD']));
  return routes;
}

/** Pending tasks per priority, or null when the storage cannot say (the status stays answerable). */
async function queueDepths(core: Core): Promise<Record<TaskPriority, number> | null> {
  try {
    return await core.tasks.queueDepths();
  } catch {
    return null;
  }
}

/**
 * `GET <basePath>` → `{status, version, uptimeSeconds, storage: {kind, ok, latencyMs},
 * queues: {critical, normal, batch} | null, workers: {id, running, slots}}` (503 when the
 * storage does not answer). `queues` counts pending tasks (not schedules) across all nodes;
 * `workers` describes this process. Mount behind the auth middleware.
 *
 * @example
 * api.route('/', statusRoutes(core, options));
 */
export function statusRoutes(core: Core, options: ResolvedAppOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const startedAt = core.clock.now().getTime();
  routes.get('/', async (c) => {
    const storage = await pingStorage(core);
    const uptimeSeconds = Math.max(0, Math.floor((core.clock.now().getTime() - startedAt) / 1000));
    return c.json(
      {
        status: storage.ok ? 'ok' : 'down',
        version: options.version,
        uptimeSeconds,
        storage: { kind: core.storage.kind, ...storage },
        queues: storage.ok ? await queueDepths(core) : null,
        workers: { id: core.tasks.workerId, running: core.tasks.runningIds().length, slots: options.workerSlots },
      },
      storage.ok ? 200 : 503,
    );
  });
  routes.all('/', methodNotAllowed(['GET', 'HEAD']));
  return routes;
}
