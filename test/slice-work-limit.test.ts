/**
 * slice with a work limit (--max-boxes): the family does not depend on the number of workers, bit for bit (the
 * finishing tasks' slopes and MILPs end on their work limits, not on what a loaded machine's clock left them).
 * That the command writes what the library gives is test/api-calls.test.ts's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModel, slice } from '../src/index.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { cliIn } from './helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nns-slice-wl-'));
const cli = cliIn(dir);
const texts = (s: Awaited<ReturnType<typeof slice>>): string[] => s.slices.map((x) => jsonNetworkText(x.network));

test('with a work limit (maxBoxes) the family is the same for 1 and 2 workers, bit for bit', async () => {
  const common = { maxSlices: 3, maxBoxes: 100, timeoutMs: 600_000, output: join(dir, 'unused'), write: false };
  const one = await slice(defaultModel(), { ...common, workers: 1 });
  const two = await slice(defaultModel(), { ...common, workers: 2 });
  assert.equal(one.slices.length, 3);
  assert.deepEqual(texts(two), texts(one));
  assert.deepEqual(two.slices.map((s) => s.box), one.slices.map((s) => s.box));
  assert.ok(one.slices.every((s) => !s.fallback), 'every slice proved');
  assert.ok(one.slices.some((s) => s.reluNeurons < one.before.reluNeurons), 'some slice is smaller than the original');
});

test('slice --max-boxes refuses a value that is not a whole number from 1, in one line', async () => {
  const r = await cli('slice', '--default', '--max-boxes', '0', '-o', join(dir, 'bad'));
  assert.equal(r.code, 2);
  assert.match(r.err, /--max-boxes/);
  assert.equal(r.err.trim().split('\n').length, 1);
});
