/**
 * Slicing a domain of several boxes (ACAS Xu property 6: two ranges of the intruder's angle), from the command line:
 * `nnshrink slice` on the property's two boxes against slicing their hull (what a user had to do before) and
 * against pruning without slicing. Per run: slices, ReLUs per slice (mean / median / max, of 300), time.
 * Run: node --import tsx bench/slice-regions.ts [maxSlices=16] [nets=1_1] [timeoutSeconds=10]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../test/helpers/shared.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { boxHull } from '../src/model/box.ts';

const maxSlices = process.argv[2] ?? '16';
const nets = (process.argv[3] ?? '1_1').split(',');
const timeout = process.argv[4] ?? '10';
const bin = new URL('../bin/nnshrink-dev.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-bench-'));
const prop = sharedPath('acasxu', 'vnnlib', 'prop_6.vnnlib');
const regions = readVnnlib(prop).regions.map((r) => r.box);
const hull = boxHull(regions);
const hullArg = `${Array.from(hull.lo).join(',')}:${Array.from(hull.hi).join(',')}`;
console.log(`ACAS Xu property 6 (${regions.length} boxes), --max-slices ${maxSlices}, --timeout ${timeout}\n`);
console.log('| network | run | slices | ReLUs per slice, mean / median / max (of 300) | time (s) |');
console.log('| --- | --- | --- | --- | --- |');
const cli = (args: string[]): { out: string; s: string } => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.trim().split('\n').pop()}`);
  return { out: r.stdout, s: ((Date.now() - t0) / 1000).toFixed(1) };
};
for (const id of nets) {
  const model = sharedPath('acasxu', 'onnx', `ACASXU_run2a_${id}_batch_2000.onnx`);
  const p = cli(['prune', model, '--vnnlib', prop, '-o', join(dir, 'p.onnx'), '--timeout', timeout]);
  console.log(`| ${id} | prune on the two boxes (no slicing) | 1 | ${JSON.parse(p.out).after.reluNeurons} | ${p.s} |`);
  for (const [name, domainArgs] of [
    ['slice the hull (one box)', ['--domain', hullArg]],
    ['slice the two boxes', ['--vnnlib', prop]],
  ] as const) {
    const fam = join(dir, 'fam');
    const r = cli(['slice', model, ...domainArgs, '--max-slices', maxSlices, '--timeout', timeout, '-o', fam]);
    const m = JSON.parse(readFileSync(join(fam, 'family.json'), 'utf8'));
    const relu: number[] = m.slices.map((s: { sizes: { reluNeurons: number } }) => s.sizes.reluNeurons).sort((a: number, b: number) => a - b);
    const mean = relu.reduce((a, b) => a + b, 0) / relu.length;
    console.log(`| ${id} | ${name} | ${relu.length} | ${mean.toFixed(1)} / ${relu[relu.length >> 1]} / ${relu[relu.length - 1]} | ${r.s} |`);
  }
}
rmSync(dir, { recursive: true, force: true });
