/**
 * A CI pipeline keeps its shared state in ProServer's key-value store: a build counter,
 * the last green commit (updated with compare-and-swap so two runners never overwrite each
 * other), and a short-lived "deploy in progress" marker with a TTL.
 *
 * Run it: `npx tsx examples/src/pipeline-state.ts` (or through its test). It embeds core and
 * the HTTP app in one process and talks to it through the SDK, as a pipeline would.
 */
import { createCore } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { createApp } from '@proserver/http';
import { createClient, isApiError } from '@proserver/sdk';

export async function runPipelineStateExample(log: (line: string) => void = console.log): Promise<{
  buildNumber: number;
  lastGreen: string;
}> {
  const core = createCore({ storage: createMemoryStorage() });
  try {
    const { secret } = await core.auth.bootstrap();
    const app = createApp(core);
    const owner = createClient({
      baseUrl: 'http://proserver.local',
      token: secret!,
      fetch: (input, init) => app.fetch(new Request(input, init)),
    });

    // The pipeline gets its own narrow token: it may only touch keys under pipelines/.
    const { secret: ciSecret } = await owner.tokens.create({
      name: 'ci-pipeline',
      expiresInDays: 30,
      scopes: ['kv:read:pipelines/**', 'kv:write:pipelines/**'],
    });
    const ci = createClient({
      baseUrl: 'http://proserver.local',
      token: ciSecret,
      fetch: (input, init) => app.fetch(new Request(input, init)),
    });

    const build = await ci.kv.increment('pipelines/main/build-number');
    log(`build #${build.value}`);

    await ci.kv.upsert({ key: 'pipelines/main/deploying', value: { build: build.value }, ttlSeconds: 900 });

    const current = await ci.kv.upsert({ key: 'pipelines/main/last-green', value: 'a1b2c3' });
    const updated = await ci.kv.update(current.key, { value: 'd4e5f6' }, { ifVersion: current.version });
    try {
      // A second runner still holding the old version loses the race instead of overwriting.
      await ci.kv.update(current.key, { value: 'stale' }, { ifVersion: current.version });
    } catch (error) {
      if (!isApiError(error, 'PRECONDITION_FAILED')) throw error;
      log('stale writer refused with 412 PRECONDITION_FAILED');
    }

    try {
      await ci.kv.get('secrets/prod');
    } catch (error) {
      if (!isApiError(error, 'FORBIDDEN')) throw error;
      log('the pipeline token cannot read outside pipelines/');
    }
    return { buildNumber: build.value as number, lastGreen: updated.value as string };
  } finally {
    await core.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runPipelineStateExample();
}
