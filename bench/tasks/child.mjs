/**
 * One scenario of one system, in its own process: `fork('bench/tasks/child.mjs', [JSON spec])`
 * with the settings in BENCH_TASKS_SETTINGS. Sends `{type: 'result', result}` or
 * `{type: 'failed', message}` over IPC, then exits (some clients keep sockets open).
 */
const SYSTEM_MODULES = {
  proserver: './systems/proserver.mjs',
  'graphile-worker': './systems/graphile-worker.mjs',
  'pg-boss': './systems/pg-boss.mjs',
  bullmq: './systems/bullmq.mjs',
};

const spec = JSON.parse(process.argv[2] ?? '{}');
const settings = JSON.parse(process.env.BENCH_TASKS_SETTINGS ?? '{}');

function send(message) {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send(message, () => resolve());
  });
}

async function main() {
  const modulePath = SYSTEM_MODULES[spec.system];
  if (!modulePath) throw new Error(`unknown system ${spec.system}`);
  const { scenarios } = await import(modulePath);
  const scenario = scenarios[spec.scenario];
  if (!scenario) throw new Error(`${spec.system} has no scenario ${spec.scenario}`);
  const result = await scenario(settings, spec);
  // ProServer's engine reports failed claims/writes as events: attach them to the result.
  const errors = (await import(modulePath)).engineErrors;
  return errors?.count > 0 ? { ...result, engineErrors: { ...errors } } : result;
}

// The parent went away (Ctrl-C, its watchdog): nothing left to report to.
process.on('disconnect', () => process.exit(1));

main()
  .then(async (result) => {
    await send({ type: 'result', result });
    process.exit(0);
  })
  .catch(async (error) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[bench tasks ${spec.system} ${spec.scenario}] ${error?.stack ?? message}`);
    await send({ type: 'failed', message });
    process.exit(1);
  });
