/**
 * `<basePath>/events`: polling (`GET /events`) and Server-Sent Events (`GET /events/stream`),
 * SPEC §4. Core filters every event by what the caller's scopes may read.
 */
import type { Core } from '@proserver/core';
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { methodNotAllowed } from '../problem.js';
import { readQuery } from '../query.js';
import type { ResolvedRealtimeOptions } from '../ws/realtime-options.js';
import { pollQuerySchema } from './events-query.js';
import { streamEvents } from './events-sse.js';

/**
 * The event routes, mounted at `<basePath>/events` behind the auth middleware.
 *
 * `GET /events?topics=tasks,kv:pipelines/*&after=120&limit=100` → `{items, nextAfter}`:
 * pass `nextAfter` as the next `after` (it stays put when nothing new arrived).
 *
 * @example
 * api.route('/events', eventRoutes(core, realtime));
 */
export function eventRoutes(core: Core, realtime: ResolvedRealtimeOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get('/', async (c) => {
    const { topics, after, limit } = readQuery(c, pollQuerySchema(realtime.maxTopics));
    const page = await core.events.read(c.get('principal'), {
      topics,
      ...(after === undefined ? {} : { after }),
      ...(limit === undefined ? {} : { limit }),
    });
    return c.json(page);
  });
  routes.all('/', methodNotAllowed(['GET', 'HEAD']));
  routes.get('/stream', (c) => streamEvents(c, core, realtime));
  routes.all('/stream', methodNotAllowed(['GET']));
  return routes;
}
