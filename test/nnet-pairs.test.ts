import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward } from '../src/model/network.ts';
import { makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { linearAsReluPairs, nnetStoredAs, nnetText, nnetUnpair, parseNNet, hiddenLinearNeurons } from '../src/formats/nnet.ts';
import { NnsError } from '../src/errors.ts';
import { randomNetwork } from './helpers/nets.ts';

// hidden layers with linear neurons, including two consecutive layers that both have some
const net = randomNetwork(21, [4, 9, 7, 6, 3], { identityFraction: 0.4 });

test('linear hidden neurons as ReLU pairs: the same function everywhere, every hidden neuron a ReLU', () => {
  const lin = hiddenLinearNeurons(net);
  assert.ok(lin[0].length > 0 && lin[1].length > 0, 'the test network has linear neurons in consecutive layers');
  const p = linearAsReluPairs(net);
  p.layers.slice(0, -1).forEach((L, k) => {
    assert.equal(L.outSize, net.layers[k].outSize + lin[k].length);
    assert.ok(L.relu.every((r) => r === 1));
  });
  // far outside any domain too: the identity holds for every input
  const xs = samplePoints(makeBox([-50, -50, -50, -50], [50, 50, 50, 50]), 5000, mulberry32(3));
  const a = forward(net, xs, 5000);
  const b = forward(p, xs, 5000);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-12 * (1 + Math.abs(v)), `output ${i}: ${v} vs ${b[i]}`));
});

test('NNet text of a network with linear neurons reads back as its pair form; unpairing gives it back exactly', () => {
  const back = parseNNet(nnetText(net), 'x.nnet').raw;
  assert.equal(nnetStoredAs(net, back), net);
  const un = nnetUnpair(back, hiddenLinearNeurons(net), 'x.nnet');
  un.layers.forEach((L, k) => {
    assert.deepEqual(L.weights, net.layers[k].weights);
    assert.deepEqual(L.bias, net.layers[k].bias);
    assert.deepEqual(L.relu, net.layers[k].relu);
  });
  // a changed weight in the file, or a wrong list, is refused in one line
  const tampered = parseNNet(nnetText(net), 'x.nnet').raw;
  tampered.layers[1].weights[tampered.layers[1].weights.length - 1] += 1;
  assert.notEqual(nnetStoredAs(net, tampered), net);
  assert.throws(() => nnetUnpair(tampered, hiddenLinearNeurons(net), 'x.nnet'), NnsError);
  assert.throws(() => nnetUnpair(back, [[0], [], []], 'x.nnet'), NnsError);
  assert.throws(() => nnetUnpair(back, 'no' as unknown as number[][], 'x.nnet'), NnsError);
});
