/**
 * Slice ACAS Xu networks on the full raw NNet box, exact or argmin mode: uniform with 1 level (32 slices) against adaptive
 * with the same budget; slice size relative to the original (ReLUs, parameters) and total time.
 * Run: node --import tsx bench/slice-acas.ts [timeoutSeconds=2] [networks=1_1,5_9] [workers=2] [levels=1] [exact|argmin]
 *   [finishTasks per slice, default 64] [final-check samples per slice, default 2000]
 *   [tolerance-search budget per slice in seconds, default 20 x the query limit]
 * (levels 1: 32 slices, 2: 1,024; adaptive gets the same budget). "kept whole": slices whose pruned network was not
 * proved in time and that keep the original. Rows also go to bench/out/slice-acas.jsonl.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { readNNet } from '../src/formats/nnet.ts';
import { sliceNetwork } from '../src/slice/slicer.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { acasNnet } from '../test/helpers/shared.ts';

const t = Number(process.argv[2] ?? 2) * 1000;
const nets = (process.argv[3] ?? '1_1,5_9').split(',');
const workers = Number(process.argv[4] ?? 2);
const levels = Number(process.argv[5] ?? 1);
const mode = process.argv[6] ?? 'exact';
const finishTasks = process.argv[7] ? Number(process.argv[7]) : undefined;
const finalSamples = Number(process.argv[8] ?? 2000);
const toleranceBudgetMs = process.argv[9] ? Number(process.argv[9]) * 1000 : undefined;
const tolerance = mode === 'argmin' ? ({ kind: 'class', order: 'argmin', margin: 0 } as const) : ({ kind: 'exact' } as const);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${(100 * s.reduce((a, b) => a + b, 0) / s.length).toFixed(1)}% / ${(100 * s[Math.floor(s.length / 2)]).toFixed(1)}% / ${(100 * s[s.length - 1]).toFixed(1)}%`;
};
mkdirSync(new URL('./out', import.meta.url), { recursive: true });
const jsonl = new URL('./out/slice-acas.jsonl', import.meta.url);
console.log(`mode: ${mode}; query limit ${t / 1000} s per slice; ${workers} worker(s)\n`);
console.log('| network | strategy | slices | ReLUs mean / median / max | parameters mean / median / max | family check max abs diff | kept whole | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const id of nets) {
  const [i, j] = id.split('_').map(Number);
  const m = readNNet(acasNnet(i, j));
  for (const strategy of ['uniform', 'adaptive'] as const) {
    const t0 = Date.now();
    const run = await sliceNetwork(m.network, [m.domain!], {
      strategy, levels, maxSlices: 2 ** (5 * levels), tolerance, boundsFn: crownBounds, bounds: 'crown',
      queryTimeoutMs: t, toleranceBudgetMs, finalTimeoutMs: 4 * t, finalSamples, workers, finishTasks,
    });
    const before = run.slices[0].result.before;
    const relu = run.slices.map((s) => s.result.after.reluNeurons / before.reluNeurons);
    const par = run.slices.map((s) => s.result.after.parameters / before.parameters);
    appendFileSync(jsonl, JSON.stringify({ net: id, strategy, mode, levels, slices: run.slices.length, relu, par, familyMaxAbsDiff: run.familyCheck.maxAbsDiff, classDisagreements: run.familyCheck.classDisagreements, fallbacks: run.slices.filter((s) => s.fallback).length, time: (Date.now() - t0) / 1000 }) + '\n');
    console.log(`| ${id} | ${strategy} | ${run.slices.length} | ${stats(run.slices.map((s) => s.result.after.reluNeurons / before.reluNeurons))} | ${stats(run.slices.map((s) => s.result.after.parameters / before.parameters))} | ${run.familyCheck.maxAbsDiff.toExponential(2)} | ${run.slices.filter((s) => s.fallback).length} | ${((Date.now() - t0) / 1000).toFixed(0)} |`);
  }
}
