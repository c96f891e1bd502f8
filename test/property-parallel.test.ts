import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomNetwork } from '../src/demo/random-network.ts';
import { forward } from '../src/model/network.ts';
import { makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { isCounterexample, type VnnProperty } from '../src/formats/vnnlib.ts';
import { decidePropertyParallel, halveProperty } from '../src/verify/property-parallel.ts';

const net = randomNetwork(11, [4, 12, 12, 2]);
const box = makeBox([-1, -0.5, -1, 0], [1, 0.5, 0, 1]);
// the unsafe set y0 - y1 <= t: sat just above the sampled minimum, unsat well below it
const xs = samplePoints(box, 20000, mulberry32(2));
const ys = forward(net, xs, 20000);
let min = Infinity;
for (let s = 0; s < 20000; s++) min = Math.min(min, ys[2 * s] - ys[2 * s + 1]);
const prop = (t: number): VnnProperty => ({ nInputs: 4, nOutputs: 2, regions: [{ box, unsafe: [[{ coeffs: Float64Array.from([1, -1]), rhs: t }]] }] });

test('halves of a property: each region cut in two along one input, the halves covering it exactly', () => {
  const [a, b] = halveProperty(net, prop(min));
  const ra = a.regions[0].box;
  const rb = b.regions[0].box;
  let cut = -1;
  for (let i = 0; i < 4; i++) {
    if (ra.hi[i] === rb.lo[i] && ra.hi[i] < box.hi[i]) {
      assert.equal(cut, -1, 'one input is cut');
      cut = i;
      assert.equal(ra.lo[i], box.lo[i]);
      assert.equal(rb.hi[i], box.hi[i]);
    } else {
      assert.deepEqual([ra.lo[i], ra.hi[i], rb.lo[i], rb.hi[i]], [box.lo[i], box.hi[i], box.lo[i], box.hi[i]]);
    }
  }
  assert.ok(cut >= 0);
  assert.equal(a.regions[0].unsafe, b.regions[0].unsafe);
});

test('a property on two workers and on one: the same verdicts, a re-checked counterexample of the whole property', async () => {
  for (const [t, want] of [[min + 0.05, 'sat'], [min - 1, 'unsat']] as const) {
    for (const workers of [1, 2]) {
      // no short search first: the halves themselves decide
      const r = await decidePropertyParallel(net, prop(t), 20000, workers, undefined, 0);
      assert.equal(r.result, want, `t=${t}, ${workers} worker(s)`);
      if (r.result === 'sat') {
        const x = Float64Array.from(r.counterexample!.x);
        assert.ok(isCounterexample(prop(t), x, forward(net, x), 0));
      }
    }
  }
});
