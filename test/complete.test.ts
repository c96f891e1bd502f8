/**
 * Completeness on small networks against an exact brute-force reference (every activation pattern, one LP each:
 * helpers/brute.ts): the verifier's decisions must equal the exact ones, at margins far finer than a grid resolves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardTrace, type Network } from '../src/model/network.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';
import { phaseCensus } from '../src/verify/phase/phase.ts';
import { decideProperty } from '../src/verify/property/property.ts';
import { maximizeLinear, minimizeLinear } from '../src/verify/property/maximize.ts';
import { isCounterexample, type VnnProperty } from '../src/formats/vnnlib.ts';
import { exactMax, exactMin } from './helpers/brute.ts';
import { randomBox, randomNetwork } from './helpers/nets.ts';

await loadMilpSolver();

const NETS = [1, 2, 3, 4, 5, 6].map((seed) => {
  const inputs = 2 + (seed % 2);
  const net = randomNetwork(seed * 101, [inputs, 4, 4, 2]);
  return { seed, net, box: randomBox(seed * 7, inputs, 1.5) };
});

test('the brute-force reference is attained and no sample beats it', () => {
  for (const { seed, net, box } of NETS) {
    const c = Float64Array.from([1, -1]);
    const lo = exactMin(net, box, 2, c);
    const N = 20_000;
    const y = forwardTrace(net, samplePoints(box, N, mulberry32(seed)), N).pre[2];
    let sampled = Infinity;
    for (let s = 0; s < N; s++) sampled = Math.min(sampled, y[2 * s] - y[2 * s + 1]);
    assert.ok(lo.value <= sampled + 1e-9, `seed ${seed}: exact ${lo.value} above a sample ${sampled}`);
    const z = forwardTrace(net, lo.x, 1).pre[2];
    assert.equal(z[0] - z[1], lo.value);
  }
});

test('property decisions equal the exact ones 1e-3 either side of the exact minimum', () => {
  for (const { seed, net, box } of NETS) {
    const c = Float64Array.from([1, -1]);
    const best = exactMin(net, box, 2, c).value;
    for (const t of [best - 1e-3, best + 1e-3]) {
      const prop: VnnProperty = { nInputs: net.inputSize, nOutputs: 2, regions: [{ box, unsafe: [[{ coeffs: c, rhs: t }]] }] };
      // as configured, and with falsification cut to a single sample: then branch and bound must find the
      // counterexample itself (in a box's corner or centre), and no box may close unsoundly before it does
      for (const extra of [{}, { samples: 1, descents: 0, deepFalsify: false }]) {
        const r = decideProperty(net, prop, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 120_000, maxBoxes: 200_000, ...extra });
        assert.equal(r.result, t < best ? 'unsat' : 'sat', `seed ${seed}, threshold ${t} against ${best}, ${JSON.stringify(extra)}`);
        if (r.result === 'sat') assert.ok(isCounterexample(prop, r.counterexample!.x, r.counterexample!.y, 0));
      }
    }
  }
});

test('maximise / minimise: proved to 1e-4, the enclosure holds the exact optimum', () => {
  for (const { seed, net, box } of NETS) {
    for (const [k, c] of [[2, Float64Array.from([1, 0])], [2, Float64Array.from([0.5, -2])], [1, Float64Array.from([1, -1, 0.5, 0])]] as const) {
      const hi = exactMax(net, box, k, c).value;
      const lo = exactMin(net, box, k, c).value;
      const opts = { timeoutMs: 120_000, maxBoxes: 200_000, precision: 1e-4, relativePrecision: 0 };
      const mx = maximizeLinear(net, [box], k, c, 0, opts);
      const mn = minimizeLinear(net, [box], k, c, 0, opts);
      const what = `seed ${seed}, layer ${k}, c ${Array.from(c)}`;
      assert.equal(mx.status, 'proved', what);
      assert.equal(mn.status, 'proved', what);
      assert.ok(mx.value <= hi + 1e-9 && mx.bound >= hi - 1e-9 && hi - mx.value <= 1e-4 + 1e-9, `${what}: max ${hi} against [${mx.value}, ${mx.bound}]`);
      assert.ok(mn.value >= lo - 1e-9 && mn.bound <= lo + 1e-9 && mn.value - lo <= 1e-4 + 1e-9, `${what}: min ${lo} against [${mn.bound}, ${mn.value}]`);
    }
  }
});

/** A neuron's phase from its exact range; null when an extreme is 0 to within the LP's tolerance (no clear answer). */
function exactPhase(net: Network, box: Box, layer: number, index: number): { want: 'never' | 'always' | 'both'; lo: number; hi: number } | null {
  const unit = new Float64Array(net.layers[layer].outSize);
  unit[index] = 1;
  const hi = exactMax(net, box, layer, unit).value;
  const lo = exactMin(net, box, layer, unit).value;
  if (Math.abs(hi) < 1e-7 || Math.abs(lo) < 1e-7) return null;
  return { want: hi < 0 ? 'never' : lo > 0 ? 'always' : 'both', lo, hi };
}

test('the phase census decides every neuron as the exact optimum does; proofs alone prove the true claims only', () => {
  let decided = 0;
  let falseClaims = 0;
  for (const { seed, net, box } of NETS) {
    const census = phaseCensus(net, [box], { boundsFn: crownBounds, timeoutMs: 120_000, maxBoxes: 200_000, seed });
    const claims: Array<{ layer: number; index: number; sign: 1 | -1; holds: boolean }> = [];
    for (const np of census.neurons) {
      const exact = exactPhase(net, box, np.layer, np.index);
      if (!exact) continue;
      const { want, lo, hi } = exact;
      assert.equal(np.phase, want, `seed ${seed}, neuron ${np.layer}:${np.index} in [${lo}, ${hi}]`);
      decided++;
      // without sampling: the true claim, or for a 'both' neuron the false claim nearest to holding
      const sign: 1 | -1 = want === 'never' ? -1 : want === 'always' ? 1 : hi < -lo ? -1 : 1;
      claims.push({ layer: np.layer, index: np.index, sign, holds: want !== 'both' });
    }
    const proofs = phaseCensus(net, [box], { boundsFn: crownBounds, timeoutMs: 120_000, maxBoxes: 200_000, seed, claims });
    for (const c of claims) {
      const got = proofs.neurons.find((np) => np.layer === c.layer && np.index === c.index)!.phase;
      const claimed = c.sign < 0 ? 'never' : 'always';
      if (c.holds) assert.equal(got, claimed, `seed ${seed}, true claim ${c.layer}:${c.index} ${claimed}`);
      else {
        assert.notEqual(got, claimed, `seed ${seed}, false claim ${c.layer}:${c.index} ${claimed} proved`);
        falseClaims++;
      }
    }
  }
  assert.ok(decided >= 40 && falseClaims >= 15, `${decided} neurons compared, ${falseClaims} false claims`);
});

/**
 * A random network with 12 inputs, where hidden neuron 1:0 is relu(a) - relu(-a) - a - 0.01 = -0.01 everywhere
 * (a = w . x + b, zero at the box's centre; "a" itself passes through layer 0 as the always-active relu(a + M)) and 1:1 its negation: never and
 * always active, but the linear relaxation of relu(a) and relu(-a) cannot show it (whatever the box).
 */
function identityNetwork(seed: number): { net: Network; box: Box } {
  const net = randomNetwork(seed * 313, [12, 6, 4, 2]);
  const box = randomBox(seed * 17, 12, 1);
  const L0 = net.layers[0];
  const L1 = net.layers[1];
  const w = Array.from({ length: 12 }, (_, j) => L0.weights[j]);
  // a = w . (x - centre) changes sign in the box; M > |a|
  const wc = w.reduce((s, v, j) => s + v * (box.lo[j] + box.hi[j]) / 2, 0);
  const M = 1 + w.reduce((s, v, j) => s + Math.abs(v) * (box.hi[j] - box.lo[j]), 0);
  for (let j = 0; j < 12; j++) {
    L0.weights[12 + j] = -w[j];
    L0.weights[24 + j] = w[j];
  }
  L0.bias[0] = -wc;
  L0.bias[1] = wc;
  L0.bias[2] = M - wc;
  L1.weights.fill(0, 0, 12);
  L1.weights.set([1, -1, -1], 0);
  L1.bias[0] = M - 0.01;
  L1.weights.set([-1, 1, 1], 6);
  L1.bias[1] = -M + 0.01;
  return { net, box };
}

test('with many inputs the census splits ReLUs, not inputs, and still decides every neuron as the exact optimum does', () => {
  let decided = 0;
  for (const seed of [1, 2, 3]) {
    const { net, box } = identityNetwork(seed);
    const census = phaseCensus(net, [box], { boundsFn: crownBounds, timeoutMs: 2000, finishTaskMs: 60_000, finishMaxBoxes: 20_000, seed });
    assert.equal(census.boxes, 1, 'no input splitting with 12 inputs');
    for (const np of census.neurons) {
      const exact = exactPhase(net, box, np.layer, np.index);
      if (!exact) continue;
      const { want, lo, hi } = exact;
      assert.equal(np.phase, want, `seed ${seed}, neuron ${np.layer}:${np.index} in [${lo}, ${hi}] (${np.method})`);
      decided++;
    }
    const planted = census.neurons.filter((np) => np.layer === 1 && np.index < 2).map((np) => `${np.phase} ${np.method}`);
    assert.deepEqual(planted, ['never relu-split', 'always relu-split'], `seed ${seed}`);
  }
  assert.ok(decided >= 25, `${decided} neurons compared`);
});
