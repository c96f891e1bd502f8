/**
 * Prune ACAS Xu networks on the full raw NNet box (exact, epsilon = p% of the sampled output range, class-preserving
 * argmin) and on the input boxes of VNN-COMP properties 1-4 (normalised view, exact): neurons and parameters before
 * and after, time. Run: node --import tsx bench/prune-acas.ts [timeoutSeconds=5] [networks=1_1,2_5,3_3,4_7,5_9]
 */
import { readNNet } from '../src/formats/nnet.ts';
import { forward } from '../src/model/network.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { pruneAndCheck } from '../src/simplify/certify.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import type { Tolerance } from '../src/verify/tolerance.ts';
import type { Network } from '../src/model/network.ts';
import { acasNnet, sharedPath } from '../test/helpers/shared.ts';

const t = Number(process.argv[2] ?? 5) * 1000;
const nets = (process.argv[3] ?? '1_1,2_5,3_3,4_7,5_9').split(',');

function range(f: Network, box: Box): number {
  const xs = samplePoints(box, 5000, mulberry32(1));
  const y = forward(f, xs, 5000);
  return Math.max(...y) - Math.min(...y);
}

function row(net: string, domain: string, mode: string, f: Network, box: Box, tol: Tolerance): void {
  const t0 = Date.now();
  try {
    const r = pruneAndCheck(f, {
      domain: [box], tolerance: tol, boundsFn: crownBounds, outputLinearLower, queryTimeoutMs: t, toleranceBudgetMs: 6 * t,
      roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 4 * t, finalSamples: 20000,
    });
    const b = r.result.before;
    const a = r.result.after;
    const c = r.result.census.counts;
    console.log(`| ${net} | ${domain} | ${mode} | ${c.never}/${c.always}/${c.both}/${c.unknown} | ${b.reluNeurons} -> ${a.reluNeurons} | ${b.parameters} -> ${a.parameters} (${((100 * (b.parameters - a.parameters)) / b.parameters).toFixed(1)}%) | ${a.layers} | ${r.check.verdict.status} | ${((Date.now() - t0) / 1000).toFixed(1)} |`);
  } catch (e) {
    console.log(`| ${net} | ${domain} | ${mode} | - | - | - | - | failed: ${(e as Error).message.slice(0, 80)} | ${((Date.now() - t0) / 1000).toFixed(1)} |`);
  }
}

console.log('| network | domain | mode | census never/always/both/unknown | ReLUs | parameters | layers | final check | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const id of nets) {
  const [i, j] = id.split('_').map(Number);
  const m = readNNet(acasNnet(i, j));
  const f = m.network;
  const box = m.domain!;
  const R = range(f, box);
  row(id, 'full', 'exact', f, box, { kind: 'exact' });
  for (const p of [0.1, 1, 5]) row(id, 'full', `eps ${p}% (${(R * p / 100).toPrecision(3)})`, f, box, { kind: 'linf', epsilon: (R * p) / 100 });
  row(id, 'full', 'argmin', f, box, { kind: 'class', order: 'argmin', margin: 0 });
  const nv = readNNet(acasNnet(i, j), 'normalized');
  for (const prop of [1, 2, 3, 4]) {
    const pb = readVnnlib(sharedPath('acasxu', 'vnnlib', `prop_${prop}.vnnlib`)).regions[0].box;
    row(id, `prop ${prop} box`, 'exact', nv.network, pb, { kind: 'exact' });
  }
}
