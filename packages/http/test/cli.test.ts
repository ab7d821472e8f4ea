/**
 * The built `proserver` command (dist/cli.js, made by `npm run build`), run as a child
 * process on PGlite in a temporary data folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, cliEnv, requireBuiltCli, runCli } from './support/cli-process.js';

const LISTENING = /^ProServer (\S+) listening on (http:\/\/localhost:(\d+)) \(storage: pglite (.+)\)$/;
const OWNER_TOKEN = /^Owner token: (prs_[0-9A-Za-z]{36})$/;
const SECRET_LINE = /^prs_[0-9A-Za-z]{36}$/;

const running: CliProcess[] = [];
let root: string;

beforeAll(async () => {
  requireBuiltCli();
  root = await mkdtemp(join(tmpdir(), 'proserver-cli-'));
});
afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await cli.exited;
  }
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string>): CliProcess {
  const cli = runCli(args, cliEnv({ LOG_LEVEL: 'warn', ...env }));
  running.push(cli);
  return cli;
}

async function serve(dataDir: string, env: Record<string, string> = {}) {
  const cli = start(['serve'], { PORT: '0', PROSERVER_DATA_DIR: dataDir, ...env });
  const [, version, url, port] = await cli.waitForLine(LISTENING);
  return { cli, version: version as string, url: url as string, port: Number(port) };
}

async function stop(cli: CliProcess): Promise<number | null> {
  cli.child.kill('SIGTERM');
  return cli.exited;
}

const call = (url: string, token: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });

const putJson = (value: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(value),
});

describe('proserver serve', () => {
  it('first start prints the URL and a one-time owner token; restart keeps data and prints none', async () => {
    const dataDir = join(root, 'first-start');
    const first = await serve(dataDir);
    expect(first.port).toBeGreaterThan(0);
    expect(first.version).toMatch(/^\d+\.\d+\.\d+/);
    const [, token] = await first.cli.waitForLine(OWNER_TOKEN);
    const secret = token as string;

    const health = await fetch(`${first.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', version: first.version });
    const created = await call(first.url, secret, '/api/key-value', putJson({ key: 'cli/a', value: 'kept' }));
    expect(created.status).toBe(201);
    expect(await stop(first.cli)).toBe(0);
    expect(first.cli.stderr.join('\n')).not.toContain(secret);

    const second = await serve(dataDir);
    const read = await call(second.url, secret, '/api/key-value/cli/a');
    expect(read.status).toBe(200);
    expect((await read.json()).value).toBe('kept');
    expect(await stop(second.cli)).toBe(0);
    expect(second.cli.stdout.join('\n')).not.toMatch(/prs_/);
  }, 90_000);

  it('uses PROSERVER_BOOTSTRAP_TOKEN as the owner token and prints no token', async () => {
    const bootstrapToken = 'my-own-bootstrap-token-0123456789-abcdef';
    const { cli, url } = await serve(join(root, 'bootstrap'), { PROSERVER_BOOTSTRAP_TOKEN: bootstrapToken });
    const res = await call(url, bootstrapToken, '/api');
    expect(res.status).toBe(200);
    expect(await stop(cli)).toBe(0);
    expect(cli.stdout.join('\n')).not.toMatch(/Owner token|prs_/);
    expect(cli.stderr.join('\n')).not.toContain(bootstrapToken);
  }, 90_000);

  it('stops with exit 0 on SIGINT too', async () => {
    const { cli } = await serve(join(root, 'sigint'));
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  }, 90_000);
});

describe('proserver token create and migrate', () => {
  it('mints working tokens offline; serve then prints no owner token', async () => {
    const dataDir = join(root, 'token-create');
    const migrate = start(['migrate'], { PROSERVER_DATA_DIR: dataDir });
    expect(await migrate.exited).toBe(0);
    expect(migrate.stdout.join('\n')).toContain('Migrations applied');

    const owner = start(['token', 'create', '--name', 'ci'], { PROSERVER_DATA_DIR: dataDir });
    expect(await owner.exited).toBe(0);
    expect(owner.stdout).toHaveLength(1);
    expect(owner.stdout[0]).toMatch(SECRET_LINE);
    const ownerSecret = owner.stdout[0] as string;

    const reader = start(
      ['token', 'create', '--name', 'reader', '--scopes', 'kv:read, tokens:write', '--expires-in-days', '7'],
      {
        PROSERVER_DATA_DIR: dataDir,
      },
    );
    expect(await reader.exited).toBe(0);
    const readerSecret = reader.stdout[0] as string;
    expect(readerSecret).toMatch(SECRET_LINE);

    const { cli, url } = await serve(dataDir);
    expect((await call(url, ownerSecret, '/api/key-value', putJson({ key: 'tc/a', value: 1 }))).status).toBe(201);
    expect((await call(url, readerSecret, '/api/key-value/tc/a')).status).toBe(200);
    const denied = await call(url, readerSecret, '/api/key-value', putJson({ key: 'tc/b', value: 1 }));
    expect(denied.status).toBe(403);
    const tokens = await (await call(url, readerSecret, '/api/application-tokens')).json();
    const mine = tokens.items.find((token: { name: string }) => token.name === 'reader');
    expect(mine).toMatchObject({ scopes: ['kv:read', 'tokens:write'] });
    expect(await stop(cli)).toBe(0);
    expect(cli.stdout.join('\n')).not.toMatch(/prs_/);
  }, 120_000);

  it('refuses a bad --expires-in-days or --scopes with exit 2', async () => {
    const dataDir = join(root, 'bad-args');
    const days = start(['token', 'create', '--name', 'x', '--expires-in-days', 'soon'], {
      PROSERVER_DATA_DIR: dataDir,
    });
    expect(await days.exited).toBe(2);
    const scopes = start(['token', 'create', '--name', 'x', '--scopes', 'kv:explode'], { PROSERVER_DATA_DIR: dataDir });
    expect(await scopes.exited).toBe(2);
    expect(scopes.stderr.join('\n')).toMatch(/scope/);
  }, 90_000);
});

describe('configuration errors exit 2 with a clear message', () => {
  it.each([
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ PROSERVER_BOOTSTRAP_TOKEN: 'short-secret' }, /PROSERVER_BOOTSTRAP_TOKEN/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
  ])('%o', async (env, message) => {
    const cli = start(['serve'], { PROSERVER_DATA_DIR: join(root, 'never-created'), ...env });
    expect(await cli.exited).toBe(2);
    const stderr = cli.stderr.join('\n');
    expect(stderr).toMatch(message);
    if ('PROSERVER_BOOTSTRAP_TOKEN' in env) expect(stderr).not.toContain('short-secret');
    expect(cli.stdout).toEqual([]);
  });
});
