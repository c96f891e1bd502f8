/**
 * The library's conveniences (src/api.ts, exported by src/index.ts) from the sources: bounds that contain every
 * evaluated pre-activation, equivalence by the product method when the layer sizes differ, verify on a chain and on
 * the same network as a graph agreeing, and bad input as NnsError. The compiled package runs the examples
 * (test/package.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nnshrink from '../src/index.ts';
import { bounds, census, cloneNetwork, equiv, forwardGraph, makeBox, makeLayer, NnsError, parseVnnlib, verify, type Network } from '../src/index.ts';
import { forwardTrace } from '../src/model/network.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { chainAsGraph } from '../src/model/graph/from-chain.ts';
import { randomNetwork } from './helpers/nets.ts';

const net = randomNetwork(7, [3, 8, 6, 2]);
const box = makeBox([-1, -0.5, 0], [1, 0.5, 2]);
const samplePointsFor = (b: Box, count: number, seed: number): Float64Array => samplePoints(b, count, mulberry32(seed));

test('index.ts exports what the examples use, as functions and classes', () => {
  for (const name of ['loadModel', 'saveModel', 'verify', 'bounds', 'census', 'equiv', 'parseCertificate', 'readCertified', 'defaultModel', 'crownBounds', 'decideProperty']) {
    assert.equal(typeof (nnshrink as Record<string, unknown>)[name], 'function', name);
  }
  assert.ok(new NnsError('x') instanceof Error);
  assert.match(nnshrink.VERSION, /^\d+\.\d+\.\d+/);
});

test('bounds by every method contain the pre-activations of 2,000 evaluated points', async () => {
  const xs = samplePointsFor(box, 2000, 11);
  const tr = forwardTrace(net, xs, 2000);
  for (const method of ['interval', 'symbolic', 'crown', 'alpha'] as const) {
    const b = (await bounds(net, box, { method })).layers;
    assert.equal(b.length, net.layers.length, method);
    net.layers.forEach((L, k) => {
      for (let s = 0; s < 2000; s++) {
        for (let i = 0; i < L.outSize; i++) {
          const z = tr.pre[k][s * L.outSize + i];
          assert.ok(b[k].lo[i] <= z && z <= b[k].hi[i], `${method}: layer ${k} neuron ${i}: ${z} outside [${b[k].lo[i]}, ${b[k].hi[i]}]`);
        }
      }
    });
  }
});

/** `f` with one more hidden neuron in its first layer that nothing reads: the same function, other layer sizes. */
function withUnreadNeuron(f: Network): Network {
  const [L0, L1, ...rest] = f.layers;
  const w0 = new Float64Array((L0.outSize + 1) * L0.inSize);
  w0.set(L0.weights);
  w0.fill(0.3, L0.outSize * L0.inSize);
  const b0 = Float64Array.from([...L0.bias, 0.1]);
  const w1 = new Float64Array(L1.outSize * (L1.inSize + 1));
  for (let i = 0; i < L1.outSize; i++) w1.set(L1.weights.subarray(i * L1.inSize, (i + 1) * L1.inSize), i * (L1.inSize + 1));
  return {
    inputSize: f.inputSize,
    layers: [makeLayer(L0.inSize, L0.outSize + 1, w0, b0, true), makeLayer(L1.inSize + 1, L1.outSize, w1, L1.bias, L1.relu), ...rest],
  };
}

test('equiv takes the product method when the layer sizes differ: the same function proved, a shifted one refuted', async () => {
  const g = withUnreadNeuron(net);
  // the product bounds the two copies independently: 0.1 is proved after about 7,000 boxes (3 s here), 0.01 is not
  // within 10 s; the generous limit keeps a slow machine from answering unknown
  const same = await equiv(net, g, box, { epsilon: 0.1 }, { timeoutMs: 120_000 });
  assert.equal(same.verdict.status, 'proved', JSON.stringify(same.verdict));
  // a copy first: withUnreadNeuron shares the untouched layers with its argument
  const shifted = withUnreadNeuron(cloneNetwork(net));
  (shifted.layers[2].bias as Float64Array)[0] += 1;
  const off = await equiv(net, shifted, box, { epsilon: 0.5 }, { timeoutMs: 20_000 });
  assert.equal(off.verdict.status, 'refuted');
  const classSame = await equiv(net, g, [box], { sameClass: 'argmax', margin: 0.01 }, { timeoutMs: 3_000 });
  assert.notEqual(classSame.verdict.status, 'refuted', 'the same function never changes class');
});

test('verify on a chain and on the same network as a graph give the same answer; a property of the wrong size is an NnsError', async () => {
  const decl = ['(declare-const X_0 Real)', '(declare-const X_1 Real)', '(declare-const X_2 Real)', '(declare-const Y_0 Real)', '(declare-const Y_1 Real)'];
  const inBox = ['(assert (>= X_0 -1))', '(assert (<= X_0 1))', '(assert (>= X_1 -0.5))', '(assert (<= X_1 0.5))', '(assert (>= X_2 0))', '(assert (<= X_2 2))'];
  const graph = chainAsGraph(net, [3], [2], 'test');
  const centre = forwardGraph(graph, Float64Array.from([0, 0, 1]))[0];
  for (const [t, expected] of [[centre, 'sat'], [1e6, 'unsat']] as const) {
    const prop = parseVnnlib([...decl, ...inBox, `(assert (>= Y_0 ${t}))`].join('\n'), 'p.vnnlib');
    const onChain = await verify(net, prop, { timeoutMs: 20_000 });
    const onGraph = await verify(graph, prop, { timeoutMs: 20_000 });
    assert.equal(onChain.result, expected);
    assert.equal(onGraph.result, expected);
  }
  const wide = parseVnnlib(['(declare-const X_0 Real)', '(declare-const Y_0 Real)', '(assert (>= X_0 0))', '(assert (<= X_0 1))', '(assert (>= Y_0 0))'].join('\n'), 'w.vnnlib');
  await assert.rejects(verify(net, wide), (e: unknown) => e instanceof NnsError && /1 inputs but the network has 3/.test(e.message));
});

test('census: every neuron gets a phase, and a phase proved never or always holds at every sampled point', async () => {
  const c = await census(net, box, { timeoutMs: 10_000 });
  const hidden = net.layers.slice(0, -1).reduce((n, L) => n + L.outSize, 0);
  assert.equal(c.neurons.length, hidden);
  const xs = samplePointsFor(box, 2000, 5);
  const tr = forwardTrace(net, xs, 2000);
  for (const n of c.neurons) {
    if (n.phase !== 'never' && n.phase !== 'always') continue;
    const size = net.layers[n.layer].outSize;
    for (let s = 0; s < 2000; s++) {
      const z = tr.pre[n.layer][s * size + n.index];
      assert.ok(n.phase === 'never' ? z <= 0 : z >= 0, `${n.layer}:${n.index} ${n.phase} but z = ${z}`);
    }
  }
});
