import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forward, type Layer } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { reduceLinearBasis } from '../src/simplify/basis.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { randomBox, randomNetwork } from './helpers/nets.ts';

/**
 * Random networks whose second hidden layer has linear neurons with planted dependencies (combinations of others,
 * with random coefficients): the reduction must drop exactly the planted number, and its proved bound must cover
 * the largest difference seen on samples.
 */
test('linear-basis reduction: drops dependent linear neurons, and its bound covers every sample', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 3 }), (seed, planted) => {
      const net = randomNetwork(seed, [3, 8, 10, 4]);
      const L = net.layers[1] as Layer;
      const rng = mulberry32(seed + 1);
      // neurons 0..2 linear and independent (generic), neurons 3..3+planted-1 linear combinations of them
      for (let i = 0; i < 3 + planted; i++) L.relu[i] = 0;
      for (let d = 3; d < 3 + planted; d++) {
        const c = [rng() * 4 - 2, rng() * 4 - 2, rng() * 4 - 2];
        for (let t = 0; t < L.inSize; t++) L.weights[d * L.inSize + t] = c[0] * L.weights[t] + c[1] * L.weights[L.inSize + t] + c[2] * L.weights[2 * L.inSize + t];
        L.bias[d] = c[0] * L.bias[0] + c[1] * L.bias[1] + c[2] * L.bias[2];
      }
      const box = randomBox(seed + 2, 3);
      const r = reduceLinearBasis(net, { domain: [box], boundsFn: crownBounds });
      const dropped = r.steps.reduce((a, s) => a + s.dependent.length, 0);
      assert.equal(dropped, planted);
      assert.equal(r.net.layers[1].outSize, 10 - planted);
      const N = 5000;
      const xs = samplePoints(box, N, mulberry32(seed + 3));
      const ya = forward(net, xs, N);
      const yb = forward(r.net, xs, N);
      let m = 0;
      for (let i = 0; i < ya.length; i++) m = Math.max(m, Math.abs(ya[i] - yb[i]));
      assert.ok(m <= r.bound, `sampled ${m} > bound ${r.bound}`);
      assert.ok(r.bound < 1e-9, `bound ${r.bound} is not at rounding level`);
    }),
    { numRuns: 60 },
  );
});

test('linear-basis reduction leaves independent linear neurons and ReLU neurons alone', () => {
  const net = randomNetwork(5, [3, 8, 6, 2]);
  const L = net.layers[1] as Layer;
  for (let i = 0; i < 4; i++) L.relu[i] = 0; // 4 generic rows in the 9-dimensional [w | b] space: independent
  const r = reduceLinearBasis(net);
  assert.equal(r.steps.length, 0);
  assert.equal(r.net, net);
});
