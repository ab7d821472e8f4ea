/**
 * The task side of the `proserver` configuration: PROSERVER_WORKERS and PROSERVER_ROLE are
 * read strictly (a bad value is a ConfigError, which the command turns into exit status 2),
 * and what a role means for the app (a worker node serves /health only).
 */
import { createCore } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { createApp } from '@proserver/http';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeWorkers, readConfig } from '../src/config.js';
import { expectProblem } from './support/harness.js';

describe('PROSERVER_WORKERS and PROSERVER_ROLE', () => {
  it('default: role all with critical 4, normal 4, batch 2', () => {
    expect(readConfig({})).toMatchObject({ role: 'all', workers: { critical: 4, normal: 4, batch: 2 } });
  });

  it('reads slots per priority; priorities not named keep their default', () => {
    expect(readConfig({ PROSERVER_WORKERS: 'critical:8,normal:2,batch:0' }).workers).toEqual({
      critical: 8,
      normal: 2,
      batch: 0,
    });
    expect(readConfig({ PROSERVER_WORKERS: ' batch : 6 ', PROSERVER_ROLE: 'WORKER' })).toMatchObject({
      role: 'worker',
      workers: { critical: 4, normal: 4, batch: 6 },
    });
  });

  it('role api runs no tasks', () => {
    expect(readConfig({ PROSERVER_ROLE: 'api' })).toMatchObject({
      role: 'api',
      workers: { critical: 0, normal: 0, batch: 0 },
    });
  });

  it.each([
    [{ PROSERVER_WORKERS: 'critical=4' }, /PROSERVER_WORKERS must look like critical:4,normal:4,batch:2.*"critical=4"/],
    [{ PROSERVER_WORKERS: 'urgent:4' }, /PROSERVER_WORKERS.*"urgent:4"/],
    [{ PROSERVER_WORKERS: 'normal:4,normal:2' }, /PROSERVER_WORKERS.*"normal:2"/],
    [{ PROSERVER_WORKERS: 'normal:-1' }, /PROSERVER_WORKERS/],
    [{ PROSERVER_WORKERS: 'normal:1001' }, /PROSERVER_WORKERS.*0 to 1000/],
    [{ PROSERVER_WORKERS: 'normal:2,' }, /PROSERVER_WORKERS/],
    [{ PROSERVER_WORKERS: 'critical:0,normal:0,batch:0', PROSERVER_ROLE: 'worker' }, /at least one worker slot/],
    [{ PROSERVER_ROLE: 'scheduler' }, /PROSERVER_ROLE must be all, api or worker \(got "scheduler"\)/],
    [
      { PROSERVER_ROLE: 'api', PROSERVER_WORKERS: 'normal:2' },
      /PROSERVER_WORKERS cannot be used with PROSERVER_ROLE=api/,
    ],
  ])('refuses %j with a clear message', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });

  it('describes slots the way PROSERVER_WORKERS writes them', () => {
    const { workers } = readConfig({ PROSERVER_WORKERS: 'normal:1' });
    expect(describeWorkers(workers)).toBe('critical:4,normal:1,batch:2');
    expect(readConfig({ PROSERVER_WORKERS: describeWorkers(workers) }).workers).toEqual(workers);
  });
});

describe('what a role means for the app', () => {
  it('a worker node answers /health and nothing under the API', async () => {
    const core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 } });
    try {
      const boot = await core.auth.bootstrap();
      const app = createApp(core, { serveApi: false });
      expect((await app.request('/health')).status).toBe(200);
      const auth = { headers: { Authorization: `Bearer ${boot.secret}` } };
      for (const path of ['/api', '/api/ping', '/api/tasks']) {
        const body = await expectProblem(await app.request(path, auth), 404, 'NOT_FOUND');
        expect(body.detail).toContain('task workers only');
      }
    } finally {
      await core.close();
    }
  });

  it('GET /api reports the configured worker slots', async () => {
    const workers = { critical: 0, normal: 0, batch: 0 };
    const core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 }, tasks: { workers } });
    try {
      const boot = await core.auth.bootstrap();
      const app = createApp(core, { workerSlots: workers });
      const res = await app.request('/api', { headers: { Authorization: `Bearer ${boot.secret}` } });
      expect(await res.json()).toMatchObject({
        queues: { critical: 0, normal: 0, batch: 0 },
        workers: { id: core.tasks.workerId, running: 0, slots: workers },
      });
    } finally {
      await core.close();
    }
  });
});
