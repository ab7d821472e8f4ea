/**
 * `/api/doc-store` (SPEC §5). Paths alternate collection and document ids, so below
 * `/docs/` an even number of segments is a document and an odd one a collection. Core checks
 * scopes (per path, and inside queries), preconditions and input; routes map HTTP to it.
 */
import {
  type Core,
  commitInputSchema,
  type DocQuery,
  type Document,
  docChangesOptionsSchema,
  docDataSchema,
  docPageOptionsSchema,
  docPutBodySchema,
  docQuerySchema,
  ProServerError,
  parseCollectionPath,
  parseDocPath,
} from '@proserver/core';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { parseJson, readBodyText, readJsonBody } from '../body.js';
import type { AppEnv } from '../env.js';
import type { ResolvedAppOptions } from '../options.js';
import { entityTag, parseEntityTag } from '../preconditions.js';
import { methodNotAllowedError } from '../problem.js';
import { readQuery } from '../query.js';
import {
  docPathAfter,
  listOptionsFrom,
  listQuerySchema,
  segmentCount,
  withDocProblems,
  writePrecondition,
} from './doc-store-support.js';

const PATCH_TYPES = ['application/merge-patch+json', 'application/json-patch+json', 'application/json'];
const createBodySchema = z.strictObject({ data: docDataSchema });
const deleteQuerySchema = z.strictObject({ recursive: z.enum(['true', 'false']).optional() });
const historyQuerySchema = docPageOptionsSchema.extend({
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
  version: z.coerce.number().int('must be a whole number').min(1).optional(),
});
const changesQuerySchema = docChangesOptionsSchema.extend({
  after: z.coerce.number().int('must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(1000).optional(),
});

/**
 * The document-store routes, mounted at `<basePath>/doc-store` behind the auth middleware.
 *
 * @example
 * api.route('/doc-store', docStoreRoutes(core, options));
 */
export function docStoreRoutes(core: Core, options: ResolvedAppOptions): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const base = `${options.basePath}/doc-store`;
  const body = { maxBytes: options.maxBodyBytes };

  routes.all('/docs/*', (c) =>
    withDocProblems(c, async () => {
      const path = docPathAfter(c, `${base}/docs/`);
      const isDocument = segmentCount(path) % 2 === 0;
      // Checked before the method: a malformed path is a 400 whatever was asked of it.
      if (isDocument) parseDocPath(path);
      else parseCollectionPath(path);
      const method = c.req.method;
      if (!isDocument) {
        if (method === 'GET' || method === 'HEAD') return listCollection(c, core, path);
        if (method === 'POST') {
          const { data } = await readJsonBody(c, createBodySchema, body);
          const doc = await core.docs.create(c.get('principal'), path, data);
          c.header('Location', `${base}/docs/${doc.path}`);
          return documentResponse(c, doc, 201);
        }
        throw methodNotAllowedError(method, ['GET', 'HEAD', 'POST']);
      }
      switch (method) {
        case 'GET':
        case 'HEAD':
          return getDocument(c, core, path);
        case 'PUT': {
          const input = await readJsonBody(c, docPutBodySchema, body);
          const expect = writePrecondition(c, input.expectedVersion);
          const doc = await core.docs.set(c.get('principal'), path, input.data, expect ? { expect } : {});
          if (doc.version === 1) c.header('Location', `${base}/docs/${doc.path}`);
          return documentResponse(c, doc, doc.version === 1 ? 201 : 200);
        }
        case 'PATCH': {
          const expect = writePrecondition(c);
          const patch = await readPatch(c, options.maxBodyBytes);
          return documentResponse(
            c,
            await core.docs.patch(c.get('principal'), path, patch as never, expect ? { expect } : {}),
            200,
          );
        }
        case 'DELETE': {
          const expect = writePrecondition(c);
          const { recursive } = readQuery(c, deleteQuerySchema);
          const result = await core.docs.delete(c.get('principal'), path, {
            ...(expect ? { expect } : {}),
            recursive: recursive === 'true',
          });
          return c.json({ path, ...result });
        }
        default:
          throw methodNotAllowedError(method, ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);
      }
    }),
  );

  routes.get('/collections', async (c) => {
    const query = readQuery(c, historyQuerySchema.omit({ version: true }));
    return c.json(await core.docs.collections(c.get('principal'), undefined, query));
  });
  routes.get('/collections/*', async (c) => {
    const query = readQuery(c, historyQuerySchema.omit({ version: true }));
    return c.json(await core.docs.collections(c.get('principal'), docPathAfter(c, `${base}/collections/`), query));
  });

  routes.post('/query', async (c) => {
    const query = await readJsonBody(c, docQuerySchema, body);
    return c.json(await core.docs.query(c.get('principal'), query as DocQuery));
  });

  routes.post('/commit', (c) =>
    withDocProblems(c, async () => {
      const { writes } = await readJsonBody(c, commitInputSchema, body);
      return c.json(await core.docs.commit(c.get('principal'), writes as never));
    }),
  );

  routes.get('/history/*', async (c) => {
    const path = docPathAfter(c, `${base}/history/`);
    const { version, ...page } = readQuery(c, historyQuerySchema);
    if (version !== undefined) return c.json(await core.docs.historyVersion(c.get('principal'), path, version));
    return c.json(await core.docs.history(c.get('principal'), path, page));
  });

  // `after` is an event-log seq (the previous `nextAfter`), not a revision: see docs/documents.md.
  routes.get('/changes', async (c) =>
    c.json(await core.docs.changes(c.get('principal'), readQuery(c, changesQuerySchema))),
  );
  return routes;
}

async function getDocument(c: Context<AppEnv>, core: Core, path: string): Promise<Response> {
  const ifNoneMatch = parseEntityTag(c.req.header('if-none-match'), 'If-None-Match');
  const doc = await core.docs.get(c.get('principal'), path);
  if (ifNoneMatch && (ifNoneMatch.kind === 'any' || ifNoneMatch.version === doc.revision)) {
    c.header('ETag', entityTag(doc.revision));
    return c.body(null, 304);
  }
  return documentResponse(c, doc, 200);
}

async function listCollection(c: Context<AppEnv>, core: Core, path: string): Promise<Response> {
  const options = listOptionsFrom(readQuery(c, listQuerySchema));
  return c.json(await core.docs.list(c.get('principal'), path, options));
}

/** A PATCH body: merge patch (object) or JSON patch (array), by media type. */
async function readPatch(c: Context<AppEnv>, maxBytes: number): Promise<unknown> {
  const header = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const mediaType = PATCH_TYPES.includes(header) ? header : 'application/merge-patch+json';
  const value = parseJson(await readBodyText(c, { mediaType, maxBytes }), 'the request body');
  const isArray = Array.isArray(value);
  if (
    (mediaType === 'application/json-patch+json' && !isArray) ||
    (mediaType === 'application/merge-patch+json' && isArray)
  ) {
    throw new ProServerError('VALIDATION_FAILED', `a ${mediaType} body must be ${isArray ? 'an object' : 'an array'}`, {
      errors: [{ path: '', message: `${mediaType} takes ${isArray ? 'an object' : 'an array of operations'}` }],
    });
  }
  return value;
}

function documentResponse(c: Context<AppEnv>, doc: Document, status: 200 | 201): Response {
  c.header('ETag', entityTag(doc.revision));
  return c.json(doc, status);
}
