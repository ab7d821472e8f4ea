import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCore, SYSTEM_PRINCIPAL } from '../src/index.js';
import { createPgliteStorage } from '../src/storage/postgres/pglite.js';

const CHILD = fileURLToPath(new URL('./fixtures/pglite-submit-and-die.mjs', import.meta.url));

describe('PGlite (the server default) across a crash of its process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'proserver-pglite-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every task and key it acknowledged before the process was killed (SIGKILL)', async () => {
    const child = fork(CHILD, [], { env: { ...process.env, PROSERVER_TEST_DATA_DIR: dataDir } });
    const told = new Promise<string[]>((resolve) => child.on('message', (m) => resolve((m as { ids: string[] }).ids)));
    const [ids, signal] = await Promise.all([
      told,
      new Promise((resolve) => child.on('exit', (_code, s) => resolve(s))),
    ]);
    expect(signal).toBe('SIGKILL');
    expect(ids).toHaveLength(20);

    const core = createCore({
      storage: await createPgliteStorage({ dataDir }),
      kv: { sweepIntervalMs: 0 },
      tasks: { workers: { critical: 0, normal: 0, batch: 0 } },
    });
    try {
      for (const id of ids) expect((await core.tasks.get(SYSTEM_PRINCIPAL, id)).status).toBe('pending');
      expect((await core.kv.get('crash/last'))?.value).toBe(ids.at(-1));
    } finally {
      await core.close();
    }
  });
});
