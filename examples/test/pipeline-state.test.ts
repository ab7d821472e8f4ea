import { expect, it } from 'vitest';
import { runPipelineStateExample } from '../src/pipeline-state.js';

it('runs the pipeline-state example end to end', async () => {
  const lines: string[] = [];
  const result = await runPipelineStateExample((line) => lines.push(line));
  expect(result).toEqual({ buildNumber: 1, lastGreen: 'd4e5f6' });
  expect(lines).toEqual([
    'build #1',
    'stale writer refused with 412 PRECONDITION_FAILED',
    'the pipeline token cannot read outside pipelines/',
  ]);
});
