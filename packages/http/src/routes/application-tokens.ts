/**
 * `/api/application-tokens` (SPEC §2). Every route needs `tokens:write`; core decides which
 * tokens the caller may see (a member only their own) and what they may mint. Secrets are
 * in two responses only (create and rotate), both marked `Cache-Control: no-store`.
 */
import { authorize, type Core, createTokenInputSchema, rotateTokenInputSchema } from '@proserver/core';
import { type Context, Hono } from 'hono';
import { readJsonBody } from '../body.js';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';
import { methodNotAllowed } from '../problem.js';
import { pageQuerySchema, readQuery } from '../query.js';

/**
 * The token routes, mounted at `<basePath>/application-tokens` behind the auth middleware.
 *
 * @example
 * api.route('/application-tokens', applicationTokenRoutes(core, options));
 */
export function applicationTokenRoutes(core: Core, options: ResolvedAppOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.use('*', async (c, next) => {
    authorize(c.get('principal'), 'tokens:write');
    await next();
  });

  routes.post('/', async (c) => {
    const input = await readJsonBody(c, createTokenInputSchema, { maxBytes: options.maxBodyBytes });
    const issued = await core.tokens.create(c.get('principal'), input);
    noStore(c);
    c.header('Location', `${options.basePath}/application-tokens/${encodeURIComponent(issued.token.id)}`);
    return c.json(issued, 201);
  });
  routes.get('/', async (c) => {
    const query = readQuery(c, pageQuerySchema);
    return c.json(await core.tokens.list(c.get('principal'), query));
  });
  routes.all('/', methodNotAllowed(['GET', 'HEAD', 'POST']));

  routes.get('/:id', async (c) => c.json(await core.tokens.get(c.get('principal'), c.req.param('id'))));
  routes.delete('/:id', async (c) => c.json(await core.tokens.revoke(c.get('principal'), c.req.param('id'))));
  routes.all('/:id', methodNotAllowed(['GET', 'HEAD', 'DELETE']));

  routes.post('/:id/rotate', async (c) => {
    const input = await readJsonBody(c, rotateTokenInputSchema, { maxBytes: options.maxBodyBytes, optional: true });
    const issued = await core.tokens.rotate(c.get('principal'), c.req.param('id'), input);
    noStore(c);
    return c.json(issued, 200);
  });
  routes.all('/:id/rotate', methodNotAllowed(['POST']));
  return routes;
}

function noStore(c: Context<AppEnv>): void {
  c.header('Cache-Control', 'no-store');
}
