/**
 * Prune ACAS Xu networks on the full raw NNet box (exact, epsilon = p% of the sampled output range, class-preserving
 * argmin) and on the distinct input boxes of VNN-COMP properties 1-4 (normalised view, exact): neurons and
 * parameters before and after, time. One phase census per (network, domain) is shared by that domain's modes (as
 * `prune` would make it); every row still runs its own final check (fresh re-proof + difference check + samples).
 * Run: node --import tsx bench/prune-acas.ts [timeoutSeconds=2] [networks=all|1_1,5_9] [workers=1] [full|props|both]
 *   [exact: the exact mode only | eps: only epsilon = 1% of the sampled output range, on the full box and the
 *   property boxes (issue 30's benchmark 3: the difference bounds' effect on the tolerance prune)]
 * Rows also go to bench/out/prune-acas.jsonl.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { readNNet } from '../src/formats/nnet.ts';
import { forward, type Network } from '../src/model/network.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { pruneAndCheck, type CertifyOptions } from '../src/simplify/certify.ts';
import { censusOptions } from '../src/simplify/prune.ts';
import { phaseCensusParallel, type PhaseCensus } from '../src/verify/phase/phase.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import type { Tolerance } from '../src/verify/tolerance.ts';
import { acasNnet, sharedPath } from '../test/helpers/shared.ts';

const t = Number(process.argv[2] ?? 2) * 1000;
const all = [...Array(45).keys()].map((k) => `${Math.floor(k / 9) + 1}_${(k % 9) + 1}`);
const nets = !process.argv[3] || process.argv[3] === 'all' ? all : process.argv[3].split(',');
const workers = Number(process.argv[4] ?? 1);
const which = process.argv[5] ?? 'both';
mkdirSync(new URL('./out', import.meta.url), { recursive: true });
const jsonl = new URL('./out/prune-acas.jsonl', import.meta.url);

function range(f: Network, box: Box): number {
  const xs = samplePoints(box, 5000, mulberry32(1));
  const y = forward(f, xs, 5000);
  return Math.max(...y) - Math.min(...y);
}

const base = (box: Box, tol: Tolerance): CertifyOptions => ({
  domain: [box], tolerance: tol, boundsFn: crownBounds, outputLinearLower, queryTimeoutMs: t, toleranceBudgetMs: 4 * t,
  roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 4 * t, finalSamples: 20000,
});

async function census(f: Network, box: Box): Promise<PhaseCensus> {
  return phaseCensusParallel(f, [box], censusOptions(base(box, { kind: 'exact' })), workers);
}

async function row(net: string, domain: string, mode: string, f: Network, box: Box, tol: Tolerance, c: PhaseCensus): Promise<void> {
  const t0 = Date.now();
  try {
    const r = await pruneAndCheck(f, { ...base(box, tol), census: c });
    const b = r.result.before;
    const a = r.result.after;
    const k = c.counts;
    const basis = r.result.steps.filter((s) => s.kind === 'linear-basis').length;
    const tolSteps = r.result.steps.filter((s) => s.kind.startsWith('tolerance')).length;
    const time = (Date.now() - t0 + c.timeMs) / 1000;
    console.log(`| ${net} | ${domain} | ${mode} | ${k.never}/${k.always}/${k.both}/${k.unknown} | ${tolSteps} | ${basis} | ${b.reluNeurons} -> ${a.reluNeurons} | ${b.parameters} -> ${a.parameters} (${((100 * (b.parameters - a.parameters)) / b.parameters).toFixed(1)}%) | ${r.check.verdict.status} | ${time.toFixed(1)} |`);
    appendFileSync(jsonl, JSON.stringify({ net, domain, mode, census: k, tolSteps, basis, before: b, after: a, check: r.check.verdict.status, time }) + '\n');
  } catch (e) {
    console.log(`| ${net} | ${domain} | ${mode} | - | - | - | - | - | failed: ${(e as Error).message.slice(0, 80)} | ${((Date.now() - t0) / 1000).toFixed(1)} |`);
    appendFileSync(jsonl, JSON.stringify({ net, domain, mode, failed: (e as Error).message }) + '\n');
  }
}

const sameBox = (a: Box, b: Box): boolean => a.lo.every((v, i) => v === b.lo[i] && a.hi[i] === b.hi[i]);
console.log(`query limit ${t / 1000} s (census: ${(3 * t) / 1000} s of the shared tree + finishing tasks with ${(3 * t) / 1000} s in all), ${workers} worker(s)\n`);
console.log('| network | domain | mode | census never/always/both/unknown | tolerance steps | basis | ReLUs | parameters | final check | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const id of nets) {
  const [i, j] = id.split('_').map(Number);
  if (which !== 'props') {
    const m = readNNet(acasNnet(i, j));
    const f = m.network;
    const box = m.domain!;
    const R = range(f, box);
    const c = await census(f, box);
    if (process.argv[6] !== 'eps') await row(id, 'full', 'exact', f, box, { kind: 'exact' }, c);
    if (process.argv[6] === 'exact') continue;
    for (const p of process.argv[6] === 'eps' ? [1] : [0.1, 1, 5]) await row(id, 'full', `eps ${p}% (${((R * p) / 100).toPrecision(3)})`, f, box, { kind: 'linf', epsilon: (R * p) / 100 }, c);
    if (process.argv[6] !== 'eps') await row(id, 'full', 'argmin', f, box, { kind: 'class', order: 'argmin', margin: 0 }, c);
  }
  if (which !== 'full') {
    const nv = readNNet(acasNnet(i, j), 'normalized');
    const boxes: Array<{ name: string; box: Box }> = [];
    for (const prop of [1, 2, 3, 4]) {
      const pb = readVnnlib(sharedPath('acasxu', 'vnnlib', `prop_${prop}.vnnlib`)).regions[0].box;
      const same = boxes.find((b) => sameBox(b.box, pb));
      if (same) same.name += `/${prop}`;
      else boxes.push({ name: `prop ${prop}`, box: pb });
    }
    for (const b of boxes) {
      const c = await census(nv.network, b.box);
      if (process.argv[6] !== 'eps') await row(id, `${b.name} box`, 'exact', nv.network, b.box, { kind: 'exact' }, c);
      if (process.argv[6] !== 'eps') continue;
      const e = range(nv.network, b.box) / 100;
      await row(id, `${b.name} box`, `eps 1% (${e.toPrecision(3)})`, nv.network, b.box, { kind: 'linf', epsilon: e }, c);
    }
  }
}
