import { beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { type DocContractContext, docPrincipal, expectDocError, feedAfter } from './doc-contract-context.js';

const S = SYSTEM_PRINCIPAL;

/** Scopes narrowed by path pattern hold for single reads and writes and inside queries. */
export function describeDocScopes(ctx: DocContractContext): void {
  describe('scopes', () => {
    const acmeReader = docPrincipal(['docs:read:sc/acme/**']);
    beforeAll(async () => {
      // Interleave visible and hidden documents so hidden ones sit between every visible pair.
      for (let i = 0; i < 6; i++) {
        for (const project of ['aaa', 'acme', 'zed']) {
          await ctx.core.docs.set(S, `sc/${project}/runs/r${i}/checks/c`, { i, project });
        }
      }
    });

    it('reads and writes need the scope for that path', async () => {
      await expectDocError(ctx.core.docs.get(acmeReader, 'sc/zed/runs/r0/checks/c'), 'FORBIDDEN');
      expect((await ctx.core.docs.get(acmeReader, 'sc/acme/runs/r0/checks/c')).data).toMatchObject({ project: 'acme' });
      await expectDocError(ctx.core.docs.set(acmeReader, 'sc/acme/runs/r9/checks/c', {}), 'FORBIDDEN');
      await expectDocError(ctx.core.docs.get(acmeReader, 'sc/acme/runs/r9/checks/c'), 'NOT_FOUND');
      const writer = docPrincipal(['docs:write:sc/acme/**', 'docs:read']);
      await expectDocError(
        ctx.core.docs.commit(writer, [
          { op: 'set', path: 'sc/acme/x/1', data: {} },
          { op: 'set', path: 'sc/zed/x/1', data: {} },
        ]),
        'FORBIDDEN',
      );
      await expectDocError(ctx.core.docs.get(S, 'sc/acme/x/1'), 'NOT_FOUND');
    });

    it('a collection-group query never returns documents outside the scope, and pages still fill', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await ctx.core.docs.query(acmeReader, {
          from: { collection: 'checks', allDescendants: true },
          orderBy: [{ field: 'i', direction: 'asc' }],
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        pages += 1;
        if (page.nextCursor) expect(page.items).toHaveLength(2);
        seen.push(...page.items.map((d) => d.path));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((i) => `sc/acme/runs/r${i}/checks/c`));
      expect(pages).toBeLessThanOrEqual(4);
    });

    it('listing and the change feed hide what the principal may not read', async () => {
      const list = await ctx.core.docs.list(acmeReader, 'sc');
      expect(list.items).toEqual([]);
      const feed = await feedAfter(ctx.core, 0, { parent: 'sc', limit: 1000 }, acmeReader);
      expect(feed.items.length).toBe(6);
      expect(feed.items.every((c) => c.path.startsWith('sc/acme/'))).toBe(true);
      await expectDocError(ctx.core.docs.collections(acmeReader, 'sc/zed'), 'FORBIDDEN');
      expect((await ctx.core.docs.collections(acmeReader, 'sc/acme')).items.map((c) => c.id)).toEqual(['runs']);
      await expectDocError(ctx.core.docs.query(docPrincipal(['kv:read']), { from: { collection: 'sc' } }), 'FORBIDDEN');
    });
  });
}
