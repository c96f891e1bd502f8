import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forward } from '../src/model/network.ts';
import { containsPoint, makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { uniformPartition, adaptivePartition } from '../src/slice/partition.ts';
import { locate } from '../src/slice/dispatch.ts';
import { makePartition, sliceNetwork } from '../src/slice/slicer.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { familyOnnxBytes } from '../src/slice/family-onnx.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
import { plantedNetwork } from '../src/demo/planted.ts';
import { NnsError } from '../src/errors.ts';
import { ortSession } from './helpers/ort.ts';
import { randomNetwork } from './helpers/nets.ts';

const root = makeBox([-1, 0], [1, 4]);

test('uniform partitions tile the box: volumes add up and every point is in the leaf the dispatcher names', () => {
  for (const levels of [1, 2, 3]) {
    const p = uniformPartition(root, levels);
    assert.equal(p.boxes.length, 4 ** levels);
    const vol = p.boxes.reduce((s, b) => s + (b.hi[0] - b.lo[0]) * (b.hi[1] - b.lo[1]), 0);
    assert.ok(Math.abs(vol - 8) < 1e-12);
    const xs = samplePoints(root, 2000, mulberry32(levels));
    for (let s = 0; s < 2000; s++) {
      const x = xs.subarray(s * 2, s * 2 + 2);
      const inside = p.boxes.map((b, i) => (containsPoint(b, x) ? i : -1)).filter((i) => i >= 0);
      assert.equal(inside.length, 1);
      assert.equal(locate(p.tree, root, x), inside[0]);
    }
  }
});

test('the dispatcher agrees with a scan of adaptive leaves, points on cuts included (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 40 }), (seed, maxLeaves) => {
      const rng = mulberry32(seed);
      const p = adaptivePartition(root, { maxLeaves, maxDepth: 12, choose: (b) => {
        const dim = rng() < 0.5 ? 0 : 1;
        return { dim, at: b.lo[dim] + (b.hi[dim] - b.lo[dim]) * (0.2 + 0.6 * rng()), gain: rng() };
      } });
      if (p.boxes.length > maxLeaves) return false;
      const xs = samplePoints(root, 100, rng);
      for (let s = 0; s < 100; s++) {
        const x = xs.subarray(s * 2, s * 2 + 2);
        const i = locate(p.tree, root, x);
        if (!containsPoint(p.boxes[i], x)) return false;
        // on a face: snap to a leaf corner
        const b = p.boxes[(s * 7) % p.boxes.length];
        const y = Float64Array.from([b.hi[0], b.lo[1]]);
        if (!containsPoint(p.boxes[locate(p.tree, root, y)], y)) return false;
      }
      return true;
    }),
    { numRuns: 100 },
  );
  assert.throws(() => locate(uniformPartition(root, 1).tree, root, [5, 1]), (e: unknown) => e instanceof NnsError && /outside the family's domain/.test(e.message));
});

test('slicing a planted network: every slice proved, the family equals the original, adaptive beats uniform', async () => {
  const { net } = plantedNetwork(21, [3, 12, 12, 10, 2]);
  const dom = makeBox([-1, -1, -1], [1, 1, 1]);
  const common = {
    tolerance: { kind: 'exact' as const },
    boundsFn: symbolicBounds,
    bounds: 'crown' as const,
    queryTimeoutMs: 3000,
    finalTimeoutMs: 10000,
    finalSamples: 2000,
  };
  const uni = await sliceNetwork(net, [dom], { ...common, strategy: 'uniform', levels: 1 });
  const ada = await sliceNetwork(net, [dom], { ...common, strategy: 'adaptive', maxSlices: 8 });
  // the same family with two worker threads
  const ada2 = await sliceNetwork(net, [dom], { ...common, strategy: 'adaptive', maxSlices: 8, workers: 2 });
  assert.deepEqual(ada2.slices.map((s) => s.result.after), ada.slices.map((s) => s.result.after));
  assert.deepEqual(ada2.partition.tree, ada.partition.tree);
  for (const run of [uni, ada]) {
    assert.ok(run.slices.every((s) => s.check.verdict.status === 'proved'));
    assert.ok(run.familyCheck.maxAbsDiff < 1e-9);
  }
  const mean = (r: typeof uni) => r.slices.reduce((s, x) => s + x.result.after.reluNeurons, 0) / r.slices.length;
  assert.ok(mean(ada) <= mean(uni) + 1e-9, `adaptive ${mean(ada)} vs uniform ${mean(uni)}`);
  // the single-file ONNX family runs in onnxruntime and equals the original
  const run = await ortSession(familyOnnxBytes(ada.partition, ada.slices.map((s) => s.written), 'float64'));
  const xs = samplePoints(dom, 50, mulberry32(9));
  for (let s = 0; s < 50; s++) {
    const x = xs.subarray(s * 3, s * 3 + 3);
    const yr = await run(x, [1, 3], 'float64');
    const y = forward(net, x);
    y.forEach((v, k) => assert.ok(Math.abs(v - yr[k]) < 1e-9));
  }
});

test('uniform slicing refuses a partition that cannot be built', async () => {
  const big = randomNetwork(1, [20, 8, 2]);
  await assert.rejects(
    () => sliceNetwork(big, [makeBox(new Array(20).fill(0), new Array(20).fill(1))], {
      strategy: 'uniform', levels: 1, tolerance: { kind: 'exact' }, boundsFn: symbolicBounds, bounds: 'crown',
      queryTimeoutMs: 100, finalTimeoutMs: 100, finalSamples: 10,
    }),
    (e: unknown) => e instanceof NnsError && /uniform slicing is impractical.*2\^20 slices.*adaptive/.test(e.message),
  );
});

test('the fallback of a slice (keep everything) is the original network, and its final check proves it', async () => {
  const { pruneAndCheck } = await import('../src/simplify/certify.ts');
  const f = randomNetwork(5, [2, 8, 8, 2]);
  const r = await pruneAndCheck(f, {
    domain: [root],
    tolerance: { kind: 'exact' },
    boundsFn: symbolicBounds,
    queryTimeoutMs: 200,
    roundTrip: (n) => n,
    precision: 'float64',
    finalTimeoutMs: 1000,
    finalSamples: 1000,
    keepEverything: true,
  });
  assert.equal(r.check.verdict.status, 'proved');
  assert.deepEqual(r.result.after, r.result.before);
  assert.equal(r.result.steps.length, 0);
  const xs = samplePoints(root, 500, mulberry32(2));
  assert.deepEqual(forward(r.written, xs, 500), forward(f, xs, 500));
});

test('adaptive partitions count the cuts that stabilised no neuron: none on a wide box of 3 inputs, all on a small ball of 200', () => {
  const opts = { strategy: 'adaptive' as const, maxSlices: 8, tolerance: { kind: 'exact' as const }, boundsFn: crownBounds, bounds: 'crown' as const, queryTimeoutMs: 1, finalTimeoutMs: 1, finalSamples: 1 };
  const wide = makePartition(randomNetwork(3, [3, 16, 16, 2]), [makeBox([-1, -1, -1], [1, 1, 1])], opts);
  assert.equal(wide.boxes.length, 8);
  assert.equal(wide.cutsWithoutGain, 0);
  const c = Array.from({ length: 200 }, (_, i) => Math.sin(i));
  const ball = makePartition(randomNetwork(4, [200, 16, 16, 2]), [makeBox(c.map((v) => v - 0.05), c.map((v) => v + 0.05))], opts);
  assert.equal(ball.boxes.length, 8);
  assert.equal(ball.cutsWithoutGain, 7);
});
