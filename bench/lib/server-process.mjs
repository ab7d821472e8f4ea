/**
 * Starts bench/server.mjs in a child process and stops it again, always: a child that does
 * not exit in time after `stop` is killed.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER_SCRIPT = fileURLToPath(new URL('../server.mjs', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/** Every child still alive, so that a crash or Ctrl-C of the parent can kill them. */
export const liveChildren = new Set();

/** Proxy settings removed from every environment: the bench talks to 127.0.0.1 only. */
export const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'];

function loopbackEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const name of PROXY_VARIABLES) delete env[name];
  return env;
}

/**
 * Forks the server for one backend and waits for its `ready` message.
 * Answers `{ready, stop}` where `ready` is the message (url, secret, paths).
 */
export async function startServerProcess(backend, env) {
  const child = fork(SERVER_SCRIPT, [backend], {
    env: loopbackEnv(env),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  liveChildren.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => liveChildren.delete(child));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  try {
    const ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ready message within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.on('message', (message) => {
        if (message?.type === 'ready') {
          clearTimeout(timer);
          resolve(message);
        } else if (message?.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(message.message));
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server process exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
    return { ready, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
