/** Runs the built `proserver` command as a child process and reads its stdout line by line. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Fails (never skips) when the command has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test builds before it runs vitest)`);
  }
}

export interface CliProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line (past or future) matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** The environment for a child: no inherited ProServer or proxy settings unless given. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'PORT',
    'HOST',
    'PROSERVER_DATA_DIR',
    'PROSERVER_BOOTSTRAP_TOKEN',
    'LOG_LEVEL',
    'http_proxy',
    'https_proxy',
    'HTTP_PROXY',
    'HTTPS_PROXY',
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void; reject: (error: Error) => void }[] = [];
  let exitCode: number | null | undefined;

  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    stdout.push(line);
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(line);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => stderr.push(line));

  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      exitCode = code;
      for (const waiter of waiters.splice(0)) {
        waiter.reject(
          new Error(`proserver exited (${code}) before printing ${waiter.pattern}; stderr:\n${stderr.join('\n')}`),
        );
      }
      resolve(code);
    });
  });

  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLine(pattern) {
      for (const line of stdout) {
        const match = pattern.exec(line);
        if (match) return Promise.resolve(match);
      }
      if (exitCode !== undefined) return Promise.reject(new Error(`proserver already exited (${exitCode})`));
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
    },
  };
}
