#!/usr/bin/env node
/**
 * The `proserver` command: `serve` (default), `migrate`, `token create`. Configuration comes
 * from the environment (see config.ts); a configuration or usage error exits with status 2,
 * any other failure with status 1.
 */
import { isProServerError } from '@proserver/core';
import { Command, InvalidArgumentError } from 'commander';
import { createToken, migrate, serve } from './commands.js';
import { ConfigError, readConfig } from './config.js';
import { PROSERVER_VERSION } from './version.js';

function fail(error: unknown): never {
  if (error instanceof ConfigError || isProServerError(error, 'VALIDATION_FAILED')) {
    process.stderr.write(`proserver: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`proserver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

function wholeDays(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a whole number of days');
  return Number(value);
}

function scopeList(value: string): string[] {
  const scopes = value
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  if (scopes.length === 0) throw new InvalidArgumentError('must list at least one scope');
  return scopes;
}

const program = new Command('proserver')
  .description('ProServer: an embeddable integration platform for Salesforce DevOps')
  .version(PROSERVER_VERSION)
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program
  .command('serve', { isDefault: true })
  .description(
    'start the API server and task workers (PORT, HOST, PROSERVER_DATA_DIR, DATABASE_URL, PROSERVER_BOOTSTRAP_TOKEN, PROSERVER_ROLE, PROSERVER_WORKERS, LOG_LEVEL)',
  )
  .action(async () => serve(readConfig(process.env)));

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => migrate(readConfig(process.env)));

program
  .command('token')
  .description('manage application tokens offline, against the database')
  .command('create')
  .description('mint an application token for the owner and print only its secret')
  .requiredOption('--name <name>', 'a name to recognise the token by')
  .option('--scopes <list>', 'comma-separated scopes', scopeList, ['*'])
  .option('--expires-in-days <days>', 'lifetime in days', wholeDays, 90)
  .action(async (options: { name: string; scopes: string[]; expiresInDays: number }) => {
    await createToken(readConfig(process.env), options);
    process.exit(0);
  });

program.parseAsync(process.argv).catch(fail);
