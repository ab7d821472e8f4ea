/**
 * Two `proserver serve` processes on one PostgreSQL database (a fresh database per run): A
 * serves the API only (PROSERVER_ROLE=api), B runs the task workers. Events produced on B
 * must reach WebSocket subscribers on A in order and without gaps, and a subscriber that
 * reconnects with `since` must get exactly what it missed.
 */
import { randomBytes } from 'node:crypto';
import { waitUntil } from '@proserver/core/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, cliEnv, requireBuiltCli, runCli } from './cli-process.js';
import { clearProxyEnv, openSocket, type ServerMessage, type TestSocket } from './events-harness.js';

const BOOTSTRAP_TOKEN = `events-two-processes-${randomBytes(16).toString('hex')}`;

interface Node {
  cli: CliProcess;
  url: string;
}

async function startNode(databaseUrl: string, role: 'api' | 'all'): Promise<Node> {
  const cli = runCli(
    ['serve'],
    cliEnv({
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      PROSERVER_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
      PROSERVER_ROLE: role,
      LOG_LEVEL: 'warn',
    }),
  );
  const match = await cli.waitForLine(/listening on (http:\/\/\S+)/);
  return { cli, url: match[1] as string };
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node || node.cli.child.exitCode !== null) return;
  node.cli.child.kill('SIGTERM');
  const timer = setTimeout(() => node.cli.child.kill('SIGKILL'), 10_000);
  await node.cli.exited;
  clearTimeout(timer);
}

const isEventOf = (id: string) => (message: ServerMessage) => message.type === 'event' && message.id === id;

/** Takes events of subscription `id` until one of type `until` (inclusive). */
async function eventsUntil(socket: TestSocket, id: string, until: string): Promise<ServerMessage[]> {
  const events: ServerMessage[] = [];
  for (let i = 0; i < 1000; i++) {
    const message = await socket.next(isEventOf(id), `an event of ${id}`);
    events.push(message);
    if (message.event?.type === until) return events;
  }
  throw new Error(`no ${until} event within 1000 events`);
}

export function describeTwoProcesses(databaseUrl: string): void {
  describe('events across two server processes on one PostgreSQL', () => {
    const database = `proserver_events_${randomBytes(6).toString('hex')}`;
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    let a: Node | undefined;
    let b: Node | undefined;
    const auth = { Authorization: `Bearer ${BOOTSTRAP_TOKEN}` };

    beforeAll(async () => {
      requireBuiltCli();
      clearProxyEnv();
      await admin.unsafe(`CREATE DATABASE "${database}"`);
      const url = new URL(databaseUrl);
      url.pathname = `/${database}`;
      // One after the other: the first migrates and creates the owner, the second finds both.
      a = await startNode(url.toString(), 'api');
      b = await startNode(url.toString(), 'all');
    }, 60_000);
    afterAll(async () => {
      await Promise.all([stopNode(a), stopNode(b)]);
      await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    });

    const submitEcho = async (payload: Record<string, unknown>) => {
      const res = await fetch(`${a?.url}/api/tasks`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'diagnostics.echo', payload }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const logOf = async (taskId: string) => {
      const res = await fetch(`${b?.url}/api/events?topics=task:${taskId}&after=0&limit=1000`, { headers: auth });
      expect(res.status).toBe(200);
      return ((await res.json()) as { items: { seq: number; type: string }[] }).items;
    };

    it('a subscriber on the API node sees the progress of a task run by the worker node, in order, without gaps', async () => {
      const socket = await openSocket(`${a?.url.replace('http:', 'ws:')}/api/ws`, { token: BOOTSTRAP_TOKEN });
      socket.send({ type: 'subscribe', id: 'tasks', topics: ['tasks'] });
      await socket.next((message) => message.type === 'subscribed');
      const taskId = await submitEcho({ value: 'across', progressSteps: 5, delayMs: 250 });
      const received = (await eventsUntil(socket, 'tasks', 'task.completed')).filter(
        (message) => message.event?.subject === taskId,
      );
      const types = received.map((message) => message.event?.type);
      expect(types[0]).toBe('task.submitted');
      expect(types).toContain('task.started');
      expect(types).toContain('task.progress');
      expect(types.at(-1)).toBe('task.completed');
      const seqs = received.map((message) => message.seq as number);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      // No gaps: exactly the task's events in the log, which node B reads from PostgreSQL.
      expect(seqs).toEqual((await logOf(taskId)).map((event) => event.seq));
      socket.socket.close();
    }, 60_000);

    it('a subscriber that reconnects with since receives exactly the events it missed', async () => {
      const wsUrl = `${a?.url.replace('http:', 'ws:')}/api/ws`;
      const taskId = await submitEcho({ value: 'resume', progressSteps: 8, delayMs: 800 });
      const first = await openSocket(wsUrl, { token: BOOTSTRAP_TOKEN });
      first.send({ type: 'subscribe', id: 'mine', topics: [`task:${taskId}`], since: 0 });
      const before = [await first.next(isEventOf('mine')), await first.next(isEventOf('mine'))];
      first.socket.terminate();

      // Let the task finish while nobody listens.
      await waitUntil(
        async () => {
          const res = await fetch(`${a?.url}/api/tasks/${taskId}/status`, { headers: auth });
          return ((await res.json()) as { status: string }).status === 'completed';
        },
        'the task to complete',
        30_000,
      );
      const second = await openSocket(wsUrl, { token: BOOTSTRAP_TOKEN });
      second.send({ type: 'subscribe', id: 'mine', topics: [`task:${taskId}`], since: before[1]?.seq });
      const after = await eventsUntil(second, 'mine', 'task.completed');
      const all = [...before, ...after].map((message) => message.seq);
      expect(all).toEqual((await logOf(taskId)).map((event) => event.seq));
      second.socket.close();
    }, 60_000);
  });
}
