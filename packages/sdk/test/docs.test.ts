import { testBackendNames } from '@proserver/core/testing';
import { DocApiError, isApiError } from '@proserver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcess } from './support/in-process.js';

async function failure(promise: Promise<unknown>): Promise<DocApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DocApiError)) throw new Error(`expected a DocApiError, got ${String(error)}`);
  return error;
}

for (const backend of testBackendNames()) {
  describe(`sdk docs on ${backend}`, () => {
    let server: InProcessServer;
    beforeAll(async () => {
      server = await startInProcess(backend);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('sets, gets, patches (merge and JSON patch) and deletes', async () => {
      const docs = server.owner.docs;
      const doc = await docs.set('projects/acme', { name: 'Acme', n: 1 }, { mustNotExist: true });
      expect(doc).toMatchObject({ path: 'projects/acme', version: 1, data: { name: 'Acme', n: 1 } });
      expect(await docs.get('projects/acme')).toEqual(doc);
      expect(await docs.getIfChanged('projects/acme', doc.revision)).toBeNull();
      const merged = await docs.patch('projects/acme', { n: 2 }, { ifRevision: doc.revision });
      const patched = await docs.patch('projects/acme', [{ op: 'replace', path: '/n', value: 3 }]);
      expect(patched.data).toEqual({ name: 'Acme', n: 3 });
      expect((await docs.getIfChanged('projects/acme', merged.revision))?.revision).toBe(patched.revision);
      const stale = await failure(docs.set('projects/acme', { n: 0 }, { ifRevision: doc.revision }));
      expect(stale).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED', currentRevision: patched.revision });
      expect(await docs.delete('projects/acme', { ifRevision: patched.revision })).toMatchObject({ deleted: 1 });
      const missing = await docs.get('projects/acme').catch((e: unknown) => e);
      expect(isApiError(missing, 'NOT_FOUND')).toBe(true);
    });

    it('update() retries on a concurrent write, and gives up after maxRetries', async () => {
      const docs = server.owner.docs;
      await docs.set('counters/a', { n: 0 });
      let interfered = 0;
      const result = await docs.update<{ n: number }>('counters/a', async (data) => {
        if (interfered < 2) {
          interfered += 1;
          await docs.set('counters/a', { n: data.n + 100 });
        }
        return { n: data.n + 1 };
      });
      expect(result.data).toEqual({ n: 201 });
      const error = await failure(
        docs.update<{ n: number }>(
          'counters/a',
          async (data) => {
            await docs.set('counters/a', { n: data.n + 1 });
            return { n: -1 };
          },
          { maxRetries: 2 },
        ),
      );
      expect(error.code).toBe('PRECONDITION_FAILED');
      expect((await docs.get<{ n: number }>('counters/a')).data.n).toBe(204);
    });

    it('lists, queries with cursors, commits atomically, reads history, collections and changes', async () => {
      const docs = server.owner.docs;
      // The feed's `after` is an event-log seq: number what was written so far, start after it.
      await server.core.events.flush();
      const start = (await docs.changes({ collection: 'none' })).nextAfter;
      const result = await docs.commit(
        Array.from({ length: 5 }, (_, i) => ({
          op: 'set' as const,
          path: `teams/t${i % 2}/runs/r${i}`,
          data: { i, ok: i % 2 === 0 },
        })),
      );
      expect(result.results).toHaveLength(5);
      const pages = [];
      for await (const page of docs.queryAll({
        from: { collection: 'runs', allDescendants: true },
        where: { ok: true },
        orderBy: [{ field: 'i', direction: 'desc' }],
        limit: 2,
      })) {
        pages.push(page.items.map((d) => d.data.i));
      }
      expect(pages).toEqual([[4, 2], [0]]);
      const listed = await docs.list('teams/t1/runs', { orderBy: [{ field: 'i', direction: 'desc' }], select: ['i'] });
      expect(listed.items.map((d) => d.data)).toEqual([{ i: 3 }, { i: 1 }]);
      const conflict = await failure(
        docs.commit([
          { op: 'set', path: 'teams/t9/runs/x', data: {} },
          { op: 'patch', path: 'teams/none/runs/x', data: { a: 1 } },
        ]),
      );
      expect(conflict).toMatchObject({ status: 409, code: 'CONFLICT', index: 1, reason: 'NOT_FOUND' });
      expect((await docs.collections('teams/t1')).items).toEqual([{ id: 'runs', path: 'teams/t1/runs' }]);
      await docs.set('teams/t1/runs/r1', { i: 1, ok: true });
      const history = await docs.history('teams/t1/runs/r1');
      expect(history.items.map((e) => e.version)).toEqual([2, 1]);
      expect((await docs.historyVersion('teams/t1/runs/r1', 1)).data).toEqual({ i: 1, ok: false });
      await server.core.events.flush();
      const changes = await docs.changes({ after: start, collection: 'runs', parent: 'teams/t1' });
      expect(changes.items.map((c) => [c.op, c.path])).toEqual([
        ['create', 'teams/t1/runs/r1'],
        ['create', 'teams/t1/runs/r3'],
        ['update', 'teams/t1/runs/r1'],
      ]);
      expect(changes.items[0]?.seq).toBeGreaterThan(start);
      expect(changes.nextAfter).toBeGreaterThanOrEqual(changes.items[2]?.seq ?? Number.POSITIVE_INFINITY);
      const more = await docs.changes({ after: changes.items[1]?.seq ?? 0, collection: 'runs', parent: 'teams/t1' });
      expect(more.items.map((c) => [c.op, c.path])).toEqual([['update', 'teams/t1/runs/r1']]);
    });
  });
}
