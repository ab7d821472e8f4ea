#!/usr/bin/env node
// `npm test`: lint, build, type-check, then every vitest suite. Prints one closing line
// "vitest: N passed, N failed, N skipped" and says whether the PostgreSQL-server and browser suites ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (label, command, args, env = process.env) => {
  process.stdout.write(`\n> ${label}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    process.stdout.write(`\n${label} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
};

run('lint', 'npx', ['biome', 'check', '.']);
run('build', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
run('type-check', 'npx', ['tsc', '-p', 'tsconfig.json']);
run('type-check sdk (browser entry, no Node types)', 'npx', ['tsc', '-p', 'packages/sdk/tsconfig.json', '--noEmit']);

const postgres = process.env.DATABASE_URL;
if (postgres) {
  process.stdout.write(`\nPostgreSQL-server suite: running against ${postgres.replace(/\/\/[^@]*@/, '//…@')}\n`);
} else {
  process.stdout.write(
    '\nPostgreSQL-server suite: NOT RUN (DATABASE_URL is not set; memory and PGlite suites run). ' +
      'Set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it.\n',
  );
}

// The SDK's browser test (packages/sdk/test/browser.test.ts) needs a Chromium binary.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browser = existsSync(chromium);
if (!browser) {
  process.stdout.write(
    `Browser suite: NOT RUN (no Chromium at ${chromium}). Install Debian's chromium or set CHROMIUM_PATH to run it.\n`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'proserver-test-'));
const report = join(dir, 'vitest.json');
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let summary = '';
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = result.numPendingTests + result.numTodoTests;
  summary = `vitest: ${result.numPassedTests} passed, ${result.numFailedTests} failed, ${skipped} skipped`;
} catch {
  summary = 'vitest: no report (the run did not complete)';
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `\n${postgres ? 'PostgreSQL-server suite: ran' : 'PostgreSQL-server suite: not run (DATABASE_URL unset)'}\n`,
);
process.stdout.write(`Browser suite: ${browser ? 'ran' : 'not run (no Chromium)'}\n`);
process.stdout.write(`${summary}\n`);
process.exit(vitest.status ?? 1);
