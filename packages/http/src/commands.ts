/**
 * What the `proserver` subcommands do. stdout carries only what a person or a script reads
 * (the listening line, a one-time token, a minted secret); logs are JSON on stderr and never
 * contain a secret.
 */
import { type Core, createCore, createJsonLogger, createTokenInputSchema, parseInput } from '@proserver/core';
import { describeStorage, describeWorkers, type ServerConfig } from './config.js';
import { type RunningServer, startServer } from './server.js';
import { openStorage } from './storage.js';
import { PROSERVER_VERSION } from './version.js';

const print = (text: string) => process.stdout.write(`${text}\n`);

/** The task engine of a one-shot command: no slots, no reaper, scheduler or purge loop. */
const OFFLINE_TASKS = {
  workers: { critical: 0, normal: 0, batch: 0 },
  reaperIntervalMs: 0,
  schedulerIntervalMs: 0,
  purgeIntervalMs: 0,
} as const;

/**
 * `proserver serve`: opens storage, bootstraps the owner on first start, listens, and shuts
 * down cleanly (exit 0) on SIGTERM or SIGINT.
 *
 * @example
 * await serve(readConfig(process.env));
 */
export async function serve(config: ServerConfig): Promise<void> {
  const logger = createJsonLogger(config.logLevel);
  let core: Core | undefined;
  let server: RunningServer | undefined;
  let stopping = false;

  // Registered before anything is opened: a signal during start-up still closes what is open.
  let startup: Promise<void> = Promise.resolve();
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    try {
      await startup.catch(() => {});
      await server?.close();
      await core?.close();
      process.exit(0);
    } catch (error) {
      logger.error('shutdown failed', { error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  let secret: string | undefined;
  startup = (async () => {
    core = createCore({ storage: await openStorage(config), logger, tasks: { workers: config.workers } });
    logger.info('task workers configured', { role: config.role, workers: describeWorkers(config.workers) });
    const boot = await core.auth.bootstrap(
      config.bootstrapToken === undefined ? {} : { bootstrapToken: config.bootstrapToken },
    );
    secret = boot.secret;
    if (!boot.created && config.bootstrapToken !== undefined) {
      logger.warn('PROSERVER_BOOTSTRAP_TOKEN ignored: an owner already exists');
    }
    if (stopping) return;
    server = await startServer({
      core,
      port: config.port,
      ...(config.hostname === undefined ? {} : { hostname: config.hostname }),
      logger,
      serveApi: config.role !== 'worker',
      workerSlots: config.workers,
    });
  })();
  try {
    await startup;
  } catch (error) {
    await core?.close();
    throw error;
  }
  if (server !== undefined && !stopping) {
    print(`ProServer ${PROSERVER_VERSION} listening on ${server.url} (storage: ${describeStorage(config)})`);
  }
  // Even when a signal cut the start short: an owner token that was created must be shown once.
  if (secret !== undefined) print(ownerTokenBlock(secret));
}

function ownerTokenBlock(secret: string): string {
  const rule = '='.repeat(72);
  return [
    rule,
    'First start: created the owner and an owner application token (scopes: *).',
    'It is shown ONCE; store it now. Use it as "Authorization: Bearer <token>".',
    '',
    `Owner token: ${secret}`,
    rule,
  ].join('\n');
}

/**
 * `proserver migrate`: applies pending migrations (opening the storage does it) and exits.
 *
 * @example
 * await migrate(readConfig(process.env));
 */
export async function migrate(config: ServerConfig): Promise<void> {
  const storage = await openStorage(config);
  await storage.close();
  print(`Migrations applied (storage: ${describeStorage(config)})`);
}

/**
 * `proserver token create`: mints an owner token offline, straight against the database,
 * and prints only the secret, so `TOKEN=$(proserver token create --name ci)` works.
 *
 * @example
 * await createToken(config, { name: 'ci', scopes: ['kv:read'], expiresInDays: 30 });
 */
export async function createToken(
  config: ServerConfig,
  input: { name: string; scopes: string[]; expiresInDays: number },
): Promise<void> {
  // Checked before the database is opened, so a typo fails at once.
  const checked = parseInput(createTokenInputSchema, input, 'token');
  const logger = createJsonLogger(config.logLevel);
  // A one-shot command: no task worker, no background passes.
  const core = createCore({
    storage: await openStorage(config),
    logger,
    kv: { sweepIntervalMs: 0 },
    tasks: { ...OFFLINE_TASKS },
  });
  try {
    const { token, secret } = await core.auth.mintOwnerToken(checked);
    logger.info('minted an owner application token', { tokenId: token.id, scopes: token.scopes });
    print(secret);
  } finally {
    await core.close();
  }
}
