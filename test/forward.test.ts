import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forward, type Network } from '../src/model/network.ts';
import { makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { randomNetwork } from '../src/demo/random-network.ts';
import { sampleCompare, sampleCompareParallel } from '../src/simplify/sample-compare.ts';

/** The textbook forward pass, one point and one neuron at a time, summing from the bias in input order. */
function naiveForward(net: Network, x: Float64Array): Float64Array {
  let cur = x;
  for (const L of net.layers) {
    const y = new Float64Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      let acc = L.bias[i];
      for (let j = 0; j < L.inSize; j++) acc += L.weights[i * L.inSize + j] * cur[j];
      y[i] = L.relu[i] && acc < 0 ? 0 : acc;
    }
    cur = y;
  }
  return cur;
}

test('the blocked batch forward pass gives the same bits as the one-point textbook loop (sizes not multiples of 4)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 10 }), (seed, n, h, batch) => {
      const net = randomNetwork(seed, [n, h, h + 3, 2]);
      const xs = samplePoints(makeBox(new Array(n).fill(-2), new Array(n).fill(2)), batch, mulberry32(seed));
      const y = forward(net, xs, batch);
      for (let s = 0; s < batch; s++) {
        const one = naiveForward(net, xs.slice(s * n, (s + 1) * n));
        for (let k = 0; k < one.length; k++) assert.ok(Object.is(y[s * one.length + k], one[k]), `sample ${s} output ${k}`);
      }
    }),
    { numRuns: 60 },
  );
});

test('the final check samples the same points and reports the same figures on one thread or two', async () => {
  const f = randomNetwork(5, [4, 16, 16, 3]);
  // g: f with one weight changed, so the difference and the class disagreements are not zero
  const g: Network = { ...f, layers: f.layers.map((L, k) => (k === 1 ? { ...L, weights: L.weights.map((w, i) => (i === 7 ? w + 0.5 : w)) } : L)) };
  const domain = [makeBox([-1, -1, -1, -1], [1, 1, 1, 1]), makeBox([0, 0, 0, 0], [2, 2, 2, 2])];
  for (const tol of [{ kind: 'linf' as const, epsilon: 0.1 }, { kind: 'class' as const, order: 'argmax' as const, margin: 0 }]) {
    const one = sampleCompare({ f, g, domain, tolerance: tol, count: 20_000, seed: 9 });
    const two = await sampleCompareParallel({ f, g, domain, tolerance: tol, count: 20_000, seed: 9 }, 2, 0);
    assert.deepEqual(two, one);
    assert.ok(one.points >= 20_000 && one.maxAbsDiff > 0);
    if (tol.kind === 'class') assert.ok((one.classDisagreements ?? 0) > 0);
    // the largest difference is a real one: no point of a fresh independent sample exceeds it by much, and
    // a different seed gives a different (but close) figure
    const other = sampleCompare({ f, g, domain, tolerance: tol, count: 20_000, seed: 10 });
    assert.notEqual(other.maxAbsDiff, one.maxAbsDiff);
    assert.ok(Math.abs(other.maxAbsDiff - one.maxAbsDiff) < 0.5 * one.maxAbsDiff);
  }
});
