/**
 * `/api/key-value` (SPEC §6). Every handler checks the caller's `kv:*` scope for the key
 * before it calls core; core does the rest. Keys contain `/`, so everything below the
 * collection is dispatched here from the raw path: the only non-key routes are
 * `POST …/upsert`, `POST …/import` and the `POST …/{key}/increment` suffix.
 */
import {
  authorize,
  type Core,
  isProServerError,
  type KvEntry,
  kvIncrementInputSchema,
  kvSetInputSchema,
  kvUpdateInputSchema,
  ProServerError,
} from '@proserver/core';
import { type Context, Hono } from 'hono';
import { readJsonBody } from '../body.js';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';
import { type EntityTagCondition, entityTag, parseEntityTag } from '../preconditions.js';
import { methodNotAllowed, methodNotAllowedError } from '../problem.js';
import { decodeKey, encodeKeyPath, rawPathAfter } from './key-path.js';
import { exportEntries, importEntries, listEntries, wantsNdjson } from './key-value-transfer.js';

const KEY_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'];
const INCREMENT_SUFFIX = '/increment';

/**
 * The key-value routes, mounted at `<basePath>/key-value` behind the auth middleware.
 *
 * @example
 * api.route('/key-value', keyValueRoutes(core, options));
 */
export function keyValueRoutes(core: Core, options: ResolvedAppOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const prefix = `${options.basePath}/key-value/`;

  routes.get('/', (c) => (wantsNdjson(c) ? exportEntries(c, core, options) : listEntries(c, core)));
  routes.post('/', async (c) => {
    const input = await readJsonBody(c, kvSetInputSchema, { maxBytes: options.maxBodyBytes });
    authorize(c.get('principal'), 'kv:write', input.key);
    const entry = await core.kv.create(input, { actor: c.get('principal') });
    c.header('Location', `${prefix}${encodeKeyPath(entry.key)}`);
    return entryResponse(c, entry, 201);
  });
  routes.all('/', methodNotAllowed(['GET', 'HEAD', 'POST']));

  routes.all('/*', async (c) => {
    const rest = rawPathAfter(c, prefix);
    if (c.req.method === 'POST') {
      if (rest === 'upsert') {
        const input = await readJsonBody(c, kvSetInputSchema, { maxBytes: options.maxBodyBytes });
        authorize(c.get('principal'), 'kv:write', input.key);
        return entryResponse(c, await core.kv.upsert(input, { actor: c.get('principal') }), 200);
      }
      if (rest === 'import') return importEntries(c, core, options);
      if (rest.endsWith(INCREMENT_SUFFIX)) {
        const key = decodeKey(rest.slice(0, -INCREMENT_SUFFIX.length));
        authorize(c.get('principal'), 'kv:write', key);
        const { by } = await readJsonBody(c, kvIncrementInputSchema, {
          maxBytes: options.maxBodyBytes,
          optional: true,
        });
        return entryResponse(c, await core.kv.increment(key, by, { actor: c.get('principal') }), 200);
      }
    }
    const key = decodeKey(rest);
    switch (c.req.method) {
      case 'GET':
      case 'HEAD':
        return getEntry(c, core, key);
      case 'PUT':
        return updateEntry(c, core, options, key);
      case 'DELETE':
        return deleteEntry(c, core, key);
      default:
        throw methodNotAllowedError(c.req.method, KEY_METHODS);
    }
  });
  return routes;
}

async function getEntry(c: Context<AppEnv>, core: Core, key: string): Promise<Response> {
  authorize(c.get('principal'), 'kv:read', key);
  const ifNoneMatch = parseEntityTag(c.req.header('if-none-match'), 'If-None-Match');
  const entry = await core.kv.get(key);
  if (ifNoneMatch && (ifNoneMatch.kind === 'any' || ifNoneMatch.version === entry.version)) {
    c.header('ETag', entityTag(entry.version));
    return c.body(null, 304);
  }
  return entryResponse(c, entry, 200);
}

async function updateEntry(c: Context<AppEnv>, core: Core, options: ResolvedAppOptions, key: string) {
  authorize(c.get('principal'), 'kv:write', key);
  const ifMatch = parseEntityTag(c.req.header('if-match'), 'If-Match');
  const input = await readJsonBody(c, kvUpdateInputSchema, { maxBytes: options.maxBodyBytes });
  const entry = await withPrecondition(ifMatch, key, () =>
    core.kv.update(key, input, { ...versionOption(ifMatch), actor: c.get('principal') }),
  );
  return entryResponse(c, entry, 200);
}

async function deleteEntry(c: Context<AppEnv>, core: Core, key: string): Promise<Response> {
  authorize(c.get('principal'), 'kv:write', key);
  const ifMatch = parseEntityTag(c.req.header('if-match'), 'If-Match');
  await withPrecondition(ifMatch, key, () =>
    core.kv.delete(key, { ...versionOption(ifMatch), actor: c.get('principal') }),
  );
  return c.body(null, 204);
}

function versionOption(condition: EntityTagCondition | undefined): { ifVersion?: number } {
  return condition?.kind === 'version' ? { ifVersion: condition.version } : {};
}

/**
 * With an `If-Match`, a missing key fails the precondition (RFC 9110 §13.1.1: no current
 * representation matches any tag, `*` included), so the answer is 412, not 404.
 */
async function withPrecondition<T>(
  condition: EntityTagCondition | undefined,
  key: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (condition !== undefined && isProServerError(error, 'NOT_FOUND')) {
      throw new ProServerError('PRECONDITION_FAILED', `If-Match failed: key ${key} does not exist`);
    }
    throw error;
  }
}

function entryResponse(c: Context<AppEnv>, entry: KvEntry, status: 200 | 201): Response {
  c.header('ETag', entityTag(entry.version));
  return c.json(entry, status);
}
