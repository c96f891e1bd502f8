/**
 * Slice ACAS Xu networks on the full raw NNet box, exact mode: uniform with 1 level (32 slices) against adaptive
 * with the same budget; slice size relative to the original (ReLUs, parameters) and total time.
 * Run: node --import tsx bench/slice-acas.ts [timeoutSeconds=2] [networks=1_1,5_9] [workers=2] [levels=1] [exact|argmin]
 */
import { readNNet } from '../src/formats/nnet.ts';
import { sliceNetwork } from '../src/slice/slicer.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { acasNnet } from '../test/helpers/shared.ts';

const t = Number(process.argv[2] ?? 2) * 1000;
const nets = (process.argv[3] ?? '1_1,5_9').split(',');
const workers = Number(process.argv[4] ?? 2);
const levels = Number(process.argv[5] ?? 1);
const mode = process.argv[6] ?? 'exact';
const tolerance = mode === 'argmin' ? ({ kind: 'class', order: 'argmin', margin: 0 } as const) : ({ kind: 'exact' } as const);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${(100 * s.reduce((a, b) => a + b, 0) / s.length).toFixed(1)}% / ${(100 * s[Math.floor(s.length / 2)]).toFixed(1)}% / ${(100 * s[s.length - 1]).toFixed(1)}%`;
};
console.log(`mode: ${mode}\n`);
console.log('| network | strategy | slices | ReLUs mean / median / max | parameters mean / median / max | family check max abs diff | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const id of nets) {
  const [i, j] = id.split('_').map(Number);
  const m = readNNet(acasNnet(i, j));
  for (const strategy of ['uniform', 'adaptive'] as const) {
    const t0 = Date.now();
    const run = await sliceNetwork(m.network, m.domain!, {
      strategy, levels, maxSlices: 2 ** (5 * levels), tolerance, boundsFn: crownBounds, bounds: 'crown',
      queryTimeoutMs: t, finalTimeoutMs: 4 * t, finalSamples: 2000, workers,
    });
    const before = run.slices[0].result.before;
    console.log(`| ${id} | ${strategy} | ${run.slices.length} | ${stats(run.slices.map((s) => s.result.after.reluNeurons / before.reluNeurons))} | ${stats(run.slices.map((s) => s.result.after.parameters / before.parameters))} | ${run.familyCheck.maxAbsDiff.toExponential(2)} | ${((Date.now() - t0) / 1000).toFixed(0)} |`);
  }
}
