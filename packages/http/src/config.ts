/**
 * The `proserver` command's configuration, read from the environment and checked at once:
 * a bad value stops the process with a clear message (exit 2) before anything is opened.
 */
import {
  bootstrapTokenSchema,
  DEFAULT_TASK_WORKERS,
  isLogLevel,
  type LogLevel,
  type TaskPriority,
} from '@proserver/core';

/** What a process does: API and workers (`all`), API only (no worker slots), or workers only. */
export type ServerRole = 'all' | 'api' | 'worker';

export interface ServerConfig {
  port: number;
  /** Interface to bind (`HOST`); undefined binds all. */
  hostname: string | undefined;
  /** PGlite folder (`PROSERVER_DATA_DIR`), used when there is no `databaseUrl`. */
  dataDir: string;
  /** `DATABASE_URL`: use that PostgreSQL server instead of PGlite. */
  databaseUrl: string | undefined;
  /** `PROSERVER_BOOTSTRAP_TOKEN`: the first owner token's secret, instead of a generated one. */
  bootstrapToken: string | undefined;
  logLevel: LogLevel;
  /** `PROSERVER_ROLE` (default `all`). */
  role: ServerRole;
  /** Task worker slots per priority (`PROSERVER_WORKERS`; all 0 for the `api` role). */
  workers: Record<TaskPriority, number>;
}

export const DEFAULT_PORT = 3029;
export const DEFAULT_DATA_DIR = './.proserver';

/** A configuration problem: the command prints the message and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads and checks the configuration. Empty variables count as unset.
 *
 * @example
 * const config = readConfig(process.env); // throws ConfigError on PORT=abc
 */
export function readConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const logLevel = (value('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!isLogLevel(logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of debug, info, warn, error, silent (got ${JSON.stringify(logLevel)})`,
    );
  }
  const role = readRole(value('PROSERVER_ROLE'));
  return {
    role,
    workers: readWorkers(value('PROSERVER_WORKERS'), role),
    port: readPort(value('PORT')),
    hostname: value('HOST'),
    dataDir: value('PROSERVER_DATA_DIR') ?? DEFAULT_DATA_DIR,
    databaseUrl: readDatabaseUrl(value('DATABASE_URL')),
    bootstrapToken: readBootstrapToken(env.PROSERVER_BOOTSTRAP_TOKEN),
    logLevel,
  };
}

function readPort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535 (got ${JSON.stringify(raw.slice(0, 20))})`);
  }
  return port;
}

const ROLES: readonly ServerRole[] = ['all', 'api', 'worker'];
const PRIORITIES: readonly TaskPriority[] = ['critical', 'normal', 'batch'];
const MAX_SLOTS = 1000;

function readRole(raw: string | undefined): ServerRole {
  const role = (raw ?? 'all').toLowerCase();
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ConfigError(`PROSERVER_ROLE must be all, api or worker (got ${JSON.stringify(role.slice(0, 20))})`);
  }
  return role as ServerRole;
}

/**
 * `critical:4,normal:4,batch:2`: priorities not named keep their default (4, 4, 2). An `api`
 * node runs no tasks, so a PROSERVER_WORKERS next to PROSERVER_ROLE=api is a contradiction.
 */
function readWorkers(raw: string | undefined, role: ServerRole): Record<TaskPriority, number> {
  if (role === 'api') {
    if (raw !== undefined) {
      throw new ConfigError('PROSERVER_WORKERS cannot be used with PROSERVER_ROLE=api (an api node runs no tasks)');
    }
    return { critical: 0, normal: 0, batch: 0 };
  }
  const workers = { ...DEFAULT_TASK_WORKERS };
  if (raw === undefined) return workers;
  const usage = `PROSERVER_WORKERS must look like critical:4,normal:4,batch:2 (whole numbers from 0 to ${MAX_SLOTS})`;
  const seen = new Set<string>();
  for (const item of raw.split(',')) {
    const match = /^\s*([a-z]+)\s*:\s*(\d{1,4})\s*$/i.exec(item);
    const priority = match?.[1]?.toLowerCase() as TaskPriority | undefined;
    const count = Number(match?.[2]);
    if (!priority || !PRIORITIES.includes(priority) || seen.has(priority) || !(count <= MAX_SLOTS)) {
      throw new ConfigError(`${usage}; got ${JSON.stringify(item.trim().slice(0, 40))}`);
    }
    seen.add(priority);
    workers[priority] = count;
  }
  if (role === 'worker' && PRIORITIES.every((priority) => workers[priority] === 0)) {
    throw new ConfigError('PROSERVER_ROLE=worker needs at least one worker slot in PROSERVER_WORKERS');
  }
  return workers;
}

/**
 * `critical:4,normal:4,batch:2`: how worker slots are written in PROSERVER_WORKERS and in logs.
 *
 * @example
 * describeWorkers({ critical: 4, normal: 4, batch: 2 }); // 'critical:4,normal:4,batch:2'
 */
export function describeWorkers(workers: Record<TaskPriority, number>): string {
  return PRIORITIES.map((priority) => `${priority}:${workers[priority]}`).join(',');
}

function readDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return raw;
}

function readBootstrapToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const result = bootstrapTokenSchema.safeParse(raw);
  if (!result.success) {
    // Never echo the value: it is a secret even when it is a bad one.
    const reason = result.error.issues[0]?.message ?? 'invalid';
    throw new ConfigError(`PROSERVER_BOOTSTRAP_TOKEN is not usable (at least 32 visible characters): ${reason}`);
  }
  return raw;
}

/**
 * How the storage is described to people: the PGlite folder, or the PostgreSQL host and
 * database without credentials.
 *
 * @example
 * describeStorage(config); // 'pglite ./.proserver' or 'postgres 127.0.0.1:5432/test'
 */
export function describeStorage(config: Pick<ServerConfig, 'databaseUrl' | 'dataDir'>): string {
  if (config.databaseUrl === undefined) return `pglite ${config.dataDir}`;
  try {
    const url = new URL(config.databaseUrl);
    return `postgres ${url.host}${url.pathname}`;
  } catch {
    return 'postgres';
  }
}
