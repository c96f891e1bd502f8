/**
 * Two networks with the same inputs and outputs but unrelated shapes, as ONE network that runs both side by side
 * (block-diagonal layers; the shallower one's outputs carried to the end by identity neurons), so every question
 * about f and g together becomes a question about one network that the bounds and the property search answer.
 */
import { makeLayer, outputSize, type Layer, type Network } from '../../model/network.ts';

/** f's layers padded to `depth` with identity layers on its outputs (linear neurons: they carry values unchanged). */
function padded(net: Network, depth: number): Layer[] {
  const m = outputSize(net);
  const out = net.layers.slice();
  while (out.length < depth) {
    const w = new Float64Array(m * m);
    for (let i = 0; i < m; i++) w[i * m + i] = 1;
    out.push(makeLayer(m, m, w, new Float64Array(m), false));
  }
  return out;
}

/** The block-diagonal layer [A 0; 0 B] on the inputs [a; b], or on one shared input when `shared` (the first layer). */
function sideBySide(A: Layer, B: Layer, shared: boolean): Layer {
  const inSize = shared ? A.inSize : A.inSize + B.inSize;
  const outSize = A.outSize + B.outSize;
  const w = new Float64Array(outSize * inSize);
  for (let i = 0; i < A.outSize; i++) for (let j = 0; j < A.inSize; j++) w[i * inSize + j] = A.weights[i * A.inSize + j];
  const off = shared ? 0 : A.inSize;
  for (let i = 0; i < B.outSize; i++) {
    for (let j = 0; j < B.inSize; j++) w[(A.outSize + i) * inSize + off + j] = B.weights[i * B.inSize + j];
  }
  const bias = new Float64Array(outSize);
  bias.set(A.bias);
  bias.set(B.bias, A.outSize);
  const relu = new Uint8Array(outSize);
  relu.set(A.relu);
  relu.set(B.relu, A.outSize);
  return makeLayer(inSize, outSize, w, bias, relu);
}

function sameInterface(f: Network, g: Network): void {
  if (f.inputSize !== g.inputSize || outputSize(f) !== outputSize(g)) {
    throw new Error(`product network: ${f.inputSize} -> ${outputSize(f)} against ${g.inputSize} -> ${outputSize(g)}`);
  }
}

/** x -> [f(x); g(x)] (2m outputs). */
export function stackedNetwork(f: Network, g: Network): Network {
  sameInterface(f, g);
  const depth = Math.max(f.layers.length, g.layers.length);
  const a = padded(f, depth);
  const b = padded(g, depth);
  return { inputSize: f.inputSize, layers: a.map((L, k) => sideBySide(L, b[k], k === 0)) };
}

/**
 * x -> f(x) - g(x) (m outputs): the stacked network with one more linear layer [I, -I]. (Folding it into the last
 * layers would save nothing the bounds need: a linear layer costs CROWN no relaxation.)
 */
export function differenceNetwork(f: Network, g: Network): Network {
  const s = stackedNetwork(f, g);
  const m = outputSize(f);
  const w = new Float64Array(m * 2 * m);
  for (let i = 0; i < m; i++) {
    w[i * 2 * m + i] = 1;
    w[i * 2 * m + m + i] = -1;
  }
  return { inputSize: s.inputSize, layers: [...s.layers, makeLayer(2 * m, m, w, new Float64Array(m), false)] };
}
