import { describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../auth/types.js';
import { type DocContractContext, expectDocError, feedAfter, feedEnd } from './doc-contract-context.js';

const S = SYSTEM_PRINCIPAL;

/** The change feed: every change after an event-log seq, in seq order, filterable. */
export function describeDocFeeds(ctx: DocContractContext): void {
  describe('change feed', () => {
    it('returns changes after a seq in order, with deletions, and resumes from nextAfter', async () => {
      const start = await feedEnd(ctx.core);
      const created = await ctx.core.docs.set(S, 'cf/p/runs/1', { a: 1 });
      await ctx.core.docs.set(S, 'cf/p/runs/1', { a: 2 });
      await ctx.core.docs.set(S, 'cf/q/runs/1', { a: 1 });
      await ctx.core.docs.set(S, 'cf/p/other/1', { a: 1 });
      await ctx.core.docs.delete(S, 'cf/p/runs/1');
      const all = await feedAfter(ctx.core, start);
      expect(all.items.map((c) => [c.op, c.path, c.version])).toEqual([
        ['create', 'cf/p/runs/1', 1],
        ['update', 'cf/p/runs/1', 2],
        ['create', 'cf/q/runs/1', 1],
        ['create', 'cf/p/other/1', 1],
        ['delete', 'cf/p/runs/1', 3],
      ]);
      expect(all.items[0]).toMatchObject({ revision: created.revision, collection: 'runs', id: '1', actor: 'system' });
      const seqs = all.items.map((c) => c.seq);
      expect(seqs[0]).toBeGreaterThan(start);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(all.nextAfter).toBeGreaterThanOrEqual(all.items.at(-1)?.seq ?? 0);

      const runs = await feedAfter(ctx.core, start, { collection: 'runs', parent: 'cf/p' });
      expect(runs.items.map((c) => c.op)).toEqual(['create', 'update', 'delete']);

      const paged = await feedAfter(ctx.core, start, { limit: 2 });
      expect(paged.items).toHaveLength(2);
      expect(paged.nextAfter).toBe(paged.items[1]?.seq);
      const rest = await feedAfter(ctx.core, paged.nextAfter);
      expect([...paged.items, ...rest.items]).toEqual(all.items);
      const empty = await feedAfter(ctx.core, all.nextAfter, { collection: 'none' });
      expect(empty).toEqual({ items: [], nextAfter: all.nextAfter });
    });

    it('numbers the changes of a commit in commit order and each seq is the event log seq', async () => {
      const start = await feedEnd(ctx.core);
      const result = await ctx.core.docs.commit(S, [
        { op: 'set', path: 'cf2/a', data: { n: 1 } },
        { op: 'set', path: 'cf2/b', data: { n: 1 } },
      ]);
      const feed = await feedAfter(ctx.core, start, { collection: 'cf2' });
      expect(feed.items.map((c) => [c.path, c.revision])).toEqual(result.results.map((r) => [r.path, r.revision]));
      const events = await ctx.core.events.read(S, { topics: ['docs:cf2/**'], after: start });
      expect(events.items.map((e) => e.seq)).toEqual(feed.items.map((c) => c.seq));
    });

    it('a short page moves nextAfter past events it filtered out, and never past an unnumbered change', async () => {
      const start = await feedEnd(ctx.core);
      await ctx.core.docs.set(S, 'cf3/x/other/1', { a: 1 });
      const skipped = await feedAfter(ctx.core, start, { collection: 'wanted' });
      expect(skipped.items).toEqual([]);
      expect(skipped.nextAfter).toBeGreaterThan(start);
      await ctx.core.docs.set(S, 'cf3/x/wanted/1', { a: 1 });
      // Read before the event log numbered the change (PostgreSQL numbers after commit): the
      // position answered must still lead to it.
      const early = await ctx.core.docs.changes(S, { after: skipped.nextAfter, collection: 'wanted' });
      const late = await feedAfter(ctx.core, early.nextAfter, { collection: 'wanted' });
      expect([...early.items, ...late.items].map((c) => c.path)).toEqual(['cf3/x/wanted/1']);
    });

    it('answers EVENTS_EXPIRED when resuming from a seq whose following changes were purged', async () => {
      const before = await feedEnd(ctx.core);
      await ctx.core.docs.set(S, 'cf-expired/p/runs/1', { a: 1 });
      ctx.clock.advance(8 * 24 * 3600 * 1000); // past the default event retention (7 days)
      await ctx.core.docs.set(S, 'cf-expired/p/runs/2', { a: 2 });
      await ctx.core.events.flush();
      expect(await ctx.core.events.purgeExpired()).toBeGreaterThan(0);
      await expectDocError(ctx.core.docs.changes(S, { after: before }), 'EVENTS_EXPIRED');
      // Without `after` the feed starts at the oldest retained change.
      const fresh = await ctx.core.docs.changes(S, { collection: 'runs', parent: 'cf-expired/p' });
      expect(fresh.items.map((c) => c.path)).toEqual(['cf-expired/p/runs/2']);
    });
  });
}
