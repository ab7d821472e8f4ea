/** Runs bench/tasks/child.mjs for one scenario; a child that overruns its time is killed. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROXY_VARIABLES } from '../../lib/server-process.mjs';

const CHILD_SCRIPT = fileURLToPath(new URL('../child.mjs', import.meta.url));

/** Children still alive, so that the parent can kill them when it is interrupted. */
export const liveChildren = new Set();

/**
 * Answers the child's result, or throws with its failure (or "killed after N s"). The child
 * gets `settings` in BENCH_TASKS_SETTINGS and `spec` as its argument.
 */
export function runChild(spec, settings, { timeoutMs, execArgv = [] }) {
  const env = { ...process.env, BENCH_TASKS_SETTINGS: JSON.stringify(settings) };
  for (const name of PROXY_VARIABLES) delete env[name];
  const child = fork(CHILD_SCRIPT, [JSON.stringify(spec)], {
    env,
    execArgv,
    // Structured clone: a latency of Infinity (never started) must not arrive as null.
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  liveChildren.add(child);
  return new Promise((resolve, reject) => {
    let outcome;
    const timer = setTimeout(() => {
      outcome ??= { error: new Error(`killed after ${Math.round(timeoutMs / 1000)} s`) };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (message) => {
      if (message?.type === 'result') outcome ??= { result: message.result };
      else if (message?.type === 'failed') outcome ??= { error: new Error(message.message) };
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      if (outcome?.result !== undefined) resolve(outcome.result);
      else reject(outcome?.error ?? new Error(`exited without a result (code ${code}, signal ${signal})`));
    });
  });
}
