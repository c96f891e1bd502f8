import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward, sizeMetrics } from '../src/model/network.ts';
import { makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { plantedNetwork } from '../src/demo/planted.ts';
import { pruneAndCheck } from '../src/simplify/certify.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
const naiveIntervalBounds = symbolicBounds;

const f32 = (net: import('../src/model/network.ts').Network) => ({
  inputSize: net.inputSize,
  layers: net.layers.map((L) => ({ ...L, weights: Float64Array.from(Float32Array.from(L.weights)), bias: Float64Array.from(Float32Array.from(L.bias)) })),
});

function maxDiff(a: import('../src/model/network.ts').Network, b: import('../src/model/network.ts').Network, n: number) {
  const box = makeBox(new Array(n).fill(-1), new Array(n).fill(1));
  const xs = samplePoints(box, 100_000, mulberry32(3));
  const ya = forward(a, xs, 100_000);
  const yb = forward(b, xs, 100_000);
  let m = 0;
  for (let i = 0; i < ya.length; i++) m = Math.max(m, Math.abs(ya[i] - yb[i]));
  return m;
}

/** Exact pruning of a planted network on [-1,1]^3 with the given storage. */
function pruneCube(net: import('../src/model/network.ts').Network, roundTrip: (n: import('../src/model/network.ts').Network) => import('../src/model/network.ts').Network, precision: 'float32' | 'float64') {
  return pruneAndCheck(net, {
    domain: [makeBox([-1, -1, -1], [1, 1, 1])],
    tolerance: { kind: 'exact' },
    boundsFn: naiveIntervalBounds,
    // a work limit decides where the searches stop; the clocks are only a safety net
    queryTimeoutMs: 60_000,
    maxBoxes: 200_000,
    roundTrip,
    precision,
    finalTimeoutMs: 120_000,
    finalSamples: 20000,
  });
}

test('exact prune finds every planted redundancy and stays equivalent on 1e5 samples', async () => {
  const p = plantedNetwork(11);
  const r = await pruneCube(p.net, (n) => n, 'float64');
  const steps = r.result.steps;
  for (const [k, i] of p.dead) assert.ok(steps.some((s) => s.kind === 'never-active' && s.layer === k && s.neuron === i), `dead ${k}:${i}`);
  for (const [k, i] of p.alwaysActive) assert.ok(steps.some((s) => s.kind === 'always-active' && s.layer === k && s.neuron === i), `always ${k}:${i}`);
  for (const [k, c, o] of p.duplicates) {
    // a copy of a neuron that is itself never active on the domain goes as never active instead
    const merged = steps.some((s) => s.kind === 'merge' && s.layer === k && s.neuron === c && s.into === o);
    const bothDead = steps.some((s) => s.kind === 'never-active' && s.layer === k && s.neuron === c) &&
      steps.some((s) => s.kind === 'never-active' && s.layer === k && s.neuron === o);
    assert.ok(merged || bothDead, `duplicate ${k}:${c}`);
  }
  // the planted linear layer: every neuron proved always active, and the layer folded away
  const lin = p.net.layers[p.linearLayer].outSize;
  assert.equal(steps.filter((s) => s.kind === 'always-active' && s.layer === p.linearLayer).length, lin);
  assert.ok(r.written.layers.length <= p.net.layers.length - 1);
  assert.ok(r.result.groups.some((g) => g.includes(p.linearLayer) && g.length > 1));
  // six linear neurons in layer 0 span a space of dimension 4 ([w | b], 3 inputs): two are re-expressed
  assert.equal(steps.filter((s) => s.kind === 'linear-basis' && s.layer === 0).length, 2);
  assert.equal(r.written.layers[0].relu.filter((x) => x === 0).length, 4);
  assert.ok((r.check.basisBound ?? 0) > 0 && r.check.basisBound! < 1e-9);
  assert.equal(r.check.verdict.status, 'proved');
  assert.ok(sizeMetrics(r.written).parameters < sizeMetrics(p.net).parameters);
  assert.ok(maxDiff(p.net, r.written, 3) < 1e-9);
  assert.ok((r.check.provedBound ?? Infinity) <= r.exactEps);
});

test('float32 storage is part of the final check', async () => {
  const p = plantedNetwork(12);
  const r = await pruneCube(p.net, f32, 'float32');
  assert.equal(r.check.verdict.status, 'proved');
  assert.ok(r.check.refactorBound > 0, 'rounding to float32 must show up in the bound');
  assert.ok(maxDiff(p.net, r.written, 3) <= (r.check.provedBound ?? 0));
});

test('epsilon prune: the largest deviation found by search stays within epsilon', async () => {
  const p = plantedNetwork(13);
  const domain = [makeBox([-1, -1, -1], [1, 1, 1])];
  const exact = await pruneAndCheck(p.net, {
    domain, tolerance: { kind: 'exact' }, boundsFn: naiveIntervalBounds, queryTimeoutMs: 60_000, maxBoxes: 200_000,
    roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 120_000, finalSamples: 10000,
  });
  const eps = 0.05;
  const r = await pruneAndCheck(p.net, {
    domain, tolerance: { kind: 'linf', epsilon: eps }, boundsFn: naiveIntervalBounds, queryTimeoutMs: 1500,
    toleranceBudgetMs: 15000, roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 20000, finalSamples: 20000,
  });
  assert.equal(r.check.verdict.status, 'proved');
  assert.ok(maxDiff(p.net, r.written, 3) <= eps);
  assert.ok(sizeMetrics(r.written).reluNeurons <= sizeMetrics(exact.written).reluNeurons);
  // the search's report adds up: kept changes are the certificate's tolerance steps, queries split three ways
  const t = r.result.toleranceSearch!;
  assert.equal(t.accepted, r.result.steps.filter((s) => s.kind.startsWith('tolerance')).length);
  assert.ok(t.accepted > 0 && t.provedQueries > 0 && t.provedQueries + t.refutedQueries <= t.queries);
  // every proved query keeps at least one change (an empty batch once "proved" the same edits until time ran out)
  assert.ok(t.provedQueries <= t.accepted, `${t.provedQueries} proved queries, ${t.accepted} changes kept`);
  assert.ok(t.timeMs <= t.budgetMs + 3000 && (t.ended === 'done' || t.timeMs >= t.budgetMs));
  assert.equal(exact.result.toleranceSearch, undefined);
});

test('a pruned network written to ONNX runs in onnxruntime with the original outputs', async () => {
  const { ortSession } = await import('./helpers/ort.ts');
  const { onnxBytes } = await import('../src/formats/onnx-write.ts');
  const { parseOnnx } = await import('../src/formats/onnx-read.ts');
  const p = plantedNetwork(14);
  const domain = [makeBox([-1, -1, -1], [1, 1, 1])];
  let bytes: Uint8Array = new Uint8Array();
  const r = await pruneAndCheck(p.net, {
    domain, tolerance: { kind: 'exact' }, boundsFn: naiveIntervalBounds, queryTimeoutMs: 60_000, maxBoxes: 200_000,
    roundTrip: (n) => parseOnnx((bytes = onnxBytes(n, { precision: 'float64' })), 'mem').network,
    precision: 'float64', finalTimeoutMs: 10000, finalSamples: 5000,
  });
  assert.ok(r.result.after.reluNeurons < r.result.before.reluNeurons);
  const run = await ortSession(bytes);
  const xs = samplePoints(domain[0], 200, mulberry32(8));
  for (let s = 0; s < 200; s++) {
    const x = xs.subarray(s * 3, s * 3 + 3);
    const yr = await run(x, [1, 3], 'float64');
    const y = forward(p.net, x);
    y.forEach((v, k) => assert.ok(Math.abs(v - yr[k]) <= 1e-9 * (1 + Math.abs(v)), `${v} vs ${yr[k]}`));
  }
});

test('a census that claims a false phase fact cannot get through: the fresh re-proof drops it and the neuron stays', async () => {
  const { phaseCensus } = await import('../src/verify/phase/phase.ts');
  const p = plantedNetwork(11);
  const domain = [makeBox([-1, -1, -1], [1, 1, 1])];
  const census = phaseCensus(p.net, domain, { boundsFn: naiveIntervalBounds, timeoutMs: 120_000, maxBoxes: 200_000 });
  const victim = census.neurons.find((n) => n.phase === 'both' && n.layer === 1)!;
  // lie: claim a neuron that is active somewhere is never active
  const lie = { ...census, neurons: census.neurons.map((n) => (n === victim ? { ...n, phase: 'never' as const, method: 'forged' } : n)) };
  const r = await pruneAndCheck(p.net, {
    domain,
    tolerance: { kind: 'exact' },
    boundsFn: naiveIntervalBounds,
    queryTimeoutMs: 5000,
    roundTrip: (n) => n,
    precision: 'float64',
    finalTimeoutMs: 20000,
    finalSamples: 20000,
    census: lie,
  });
  assert.equal(r.check.verdict.status, 'proved');
  assert.ok(!r.result.steps.some((s) => s.layer === victim.layer && s.neuron === victim.index), 'the forged fact was dropped');
  assert.ok(maxDiff(p.net, r.written, 3) < 1e-9);
});

test('fixpoint: neurons that the tolerance changes make stable are removed too, re-proved on the changed network', async () => {
  const { randomNetwork } = await import('../src/demo/random-network.ts');
  const { applyEdits, cloneEdits, KEEP } = await import('../src/simplify/edits.ts');
  const { forwardTrace } = await import('../src/model/network.ts');
  const net = randomNetwork(3, [3, 12, 12, 10, 2]);
  const eps = 0.2;
  const r = await pruneAndCheck(net, {
    domain: [makeBox([-1, -1, -1], [1, 1, 1])],
    tolerance: { kind: 'linf', epsilon: eps },
    boundsFn: naiveIntervalBounds,
    // work limits, the clocks only a safety net: with clocks alone, under load too few queries were proved for a
    // neuron to become stable; the search ends when its candidates run out
    queryTimeoutMs: 60_000,
    maxBoxes: 2_000,
    toleranceBudgetMs: 600_000,
    roundTrip: (n) => n,
    precision: 'float64',
    finalTimeoutMs: 120_000,
    finalSamples: 5000,
  });
  const late = r.result.steps.filter((s) => s.stage === 1);
  assert.ok(late.length >= 1, 'a neuron became stable after the tolerance changes');
  assert.equal(r.check.verdict.status, 'proved');
  assert.ok(maxDiff(net, r.written, 3) <= eps);
  // independent look: on the network before the late facts, those neurons have one sign on 1e5 samples, while on the
  // original they take both signs (else the first census would have had them)
  const before = cloneEdits(r.result.edits);
  for (const s of late) before.state[s.layer][s.neuron] = KEEP;
  const g1 = applyEdits(net, before).g;
  const xs = samplePoints(makeBox([-1, -1, -1], [1, 1, 1]), 100_000, mulberry32(8));
  const tg = forwardTrace(g1, xs, 100_000);
  const tf = forwardTrace(net, xs, 100_000);
  for (const s of late) {
    const m = net.layers[s.layer].outSize;
    let gPos = false;
    let gNeg = false;
    let fPos = false;
    let fNeg = false;
    for (let i = 0; i < 100_000; i++) {
      const vg = tg.pre[s.layer][i * m + s.neuron];
      const vf = tf.pre[s.layer][i * m + s.neuron];
      gPos ||= vg > 0;
      gNeg ||= vg < 0;
      fPos ||= vf > 0;
      fNeg ||= vf < 0;
    }
    assert.ok(s.kind === 'never-active' ? !gPos : !gNeg, `late fact ${s.kind} ${s.layer}:${s.neuron} holds on g`);
    assert.ok(fPos && fNeg, 'it was not stable on the original');
  }
});

test('tolerance search on the default network ends once no candidate applies, every proved query keeping a change', async () => {
  const { defaultNetwork } = await import('../src/demo/default-network.ts');
  const { crownBounds } = await import('../src/bounds/backward.ts');
  // here the search used to end with merges into neurons already changed, and "proved" the empty batch of them
  // again and again until its time ran out (45 proved queries for 3 changes)
  const r = await pruneAndCheck(defaultNetwork(), {
    domain: [makeBox([0, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5, 0.5])], tolerance: { kind: 'linf', epsilon: 0.05 }, boundsFn: crownBounds,
    queryTimeoutMs: 600, toleranceBudgetMs: 60_000, roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 10_000, finalSamples: 10_000,
  });
  const t = r.result.toleranceSearch!;
  assert.equal(t.ended, 'done');
  assert.ok(t.accepted > 0 && t.provedQueries <= t.accepted, JSON.stringify(t));
  assert.equal(r.check.verdict.status, 'proved');
});

test('where linear neurons cost two ReLUs as stored (NNet), always-active ones stay ReLUs when that stores fewer parameters', async () => {
  const { linearAsReluPairs } = await import('../src/formats/nnet.ts');
  const stored = (n: import('../src/model/network.ts').Network): number => sizeMetrics(linearAsReluPairs(n)).parameters;
  let kept = 0;
  for (const seed of [11, 13, 15]) {
    const p = plantedNetwork(seed);
    const plain = await pruneCube(p.net, (n) => n, 'float64');
    const opts = { domain: [makeBox([-1, -1, -1], [1, 1, 1])], tolerance: { kind: 'exact' as const }, boundsFn: naiveIntervalBounds, queryTimeoutMs: 60_000, maxBoxes: 200_000, roundTrip: (n: import('../src/model/network.ts').Network) => n, precision: 'float64' as const, finalTimeoutMs: 120_000, finalSamples: 20000 };
    const r = await pruneAndCheck(p.net, { ...opts, storedParameters: stored });
    assert.equal(r.check.verdict.status, 'proved');
    assert.ok(stored(r.written) <= stored(plain.written), `seed ${seed}: ${stored(r.written)} stored against ${stored(plain.written)}`);
    assert.ok(maxDiff(p.net, r.written, 3) < 1e-9);
    if (r.result.keptAsRelu) {
      kept++;
      assert.ok(stored(r.written) < stored(plain.written));
      assert.ok(!r.result.steps.some((s) => s.kind === 'always-active'), 'the kept neurons are not listed as linearised');
    }
  }
  assert.ok(kept >= 1, 'no network where keeping ReLUs stores fewer parameters: the test shows nothing');
});

test('changes within the tolerance that the final check does not prove are undone, and the exact result is written', async () => {
  const { defaultModel } = await import('../src/demo/default-network.ts');
  const { crownBounds } = await import('../src/bounds/backward.ts');
  const { cloneNetwork } = await import('../src/model/network.ts');
  const f = defaultModel().network;
  // storage that moves output 0 by 0.035 uses most of epsilon 0.05: the search's changes (up to 0.98 x 0.05) no
  // longer fit beside it, the exact result does
  const shifted = (n: import('../src/model/network.ts').Network) => {
    const g = cloneNetwork(n);
    g.layers[g.layers.length - 1].bias[0] += 0.035;
    return g;
  };
  const box = makeBox([0, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5, 0.5]);
  const r = await pruneAndCheck(f, {
    domain: [box], tolerance: { kind: 'linf', epsilon: 0.05 }, boundsFn: crownBounds, queryTimeoutMs: 600, toleranceBudgetMs: 15000,
    roundTrip: shifted, precision: 'float64', finalTimeoutMs: 10000, finalSamples: 10000,
  });
  assert.equal(r.check.verdict.status, 'proved');
  assert.ok((r.result.toleranceSearch?.accepted ?? 0) > 0, 'the search kept changes');
  assert.ok((r.result.toleranceDropped ?? 0) > 0, 'they were undone');
  assert.ok(!r.result.steps.some((s) => s.kind.startsWith('tolerance')));
  const xs = samplePoints(box, 20000, mulberry32(5));
  const ya = forward(f, xs, 20000);
  const yb = forward(r.written, xs, 20000);
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) <= 0.05, `sample ${i}`);
});
