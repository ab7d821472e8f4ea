import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifySql } from '../src/storage/postgres/notifier.js';
import { rowsOf } from '../src/storage/postgres/sql-helpers.js';

describe('a wake-up sent on its own (notifySql)', () => {
  let client: PGlite;
  beforeAll(async () => {
    client = await PGlite.create();
  });
  afterAll(() => client?.close());

  it('is delivered, and its asynchronous commit does not change the session', async () => {
    const db = drizzle(client);
    const heard: string[] = [];
    const unlisten = await client.listen('proserver_test_wake', (payload) => heard.push(payload));
    try {
      await db.execute(notifySql('proserver_test_wake', 'normal'));
      await client.query('SELECT 1'); // notifications are handed over with the next message
      expect(heard).toEqual(['normal']);
      // Only the statement's own transaction commits asynchronously: the session's setting is untouched.
      const [row] = rowsOf<{ synchronous_commit: string }>(await db.execute(sql`SHOW synchronous_commit`));
      expect(row?.synchronous_commit).toBe('on');
    } finally {
      await unlisten();
    }
  });
});
