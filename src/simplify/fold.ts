/**
 * Folding linear parts: a hidden layer whose neurons are all linear (identity) is multiplied into the next layer,
 * W' = W_{k+1} W_k, b' = W_{k+1} b_k + b_{k+1}, when that leaves fewer parameters. `groups[i]` lists the layers of
 * the unfolded network that written layer i stands for (the last one is the layer whose activations it keeps).
 * A layer left without neurons is always folded: the network then computes a constant from there on.
 */
import type { Layer, Network } from '../model/network.ts';

export interface FoldResult {
  net: Network;
  groups: number[][];
}

function params(L: { inSize: number; outSize: number }): number {
  return L.inSize * L.outSize + L.outSize;
}

export function composeLayers(a: Layer, b: Layer): Layer {
  // b(a(x)) with a's activations all identity
  const n = a.inSize;
  const W = new Float64Array(b.outSize * n);
  const bias = new Float64Array(b.outSize);
  for (let i = 0; i < b.outSize; i++) {
    let s = b.bias[i];
    for (let t = 0; t < a.outSize; t++) {
      const w = b.weights[i * b.inSize + t];
      if (w === 0) continue;
      s += w * a.bias[t];
      for (let j = 0; j < n; j++) W[i * n + j] += w * a.weights[t * n + j];
    }
    bias[i] = s;
  }
  return { inSize: n, outSize: b.outSize, weights: W, bias, relu: Uint8Array.from(b.relu) };
}

export function foldLinearLayers(net: Network): FoldResult {
  const layers: Layer[] = [];
  const groups: number[][] = [];
  for (let k = 0; k < net.layers.length; k++) {
    const L = net.layers[k];
    const prev = layers[layers.length - 1];
    const prevAllLinear = prev !== undefined && prev.relu.every((r) => r === 0);
    if (prevAllLinear) {
      const folded = composeLayers(prev, L);
      // a layer with no neuron left (every one removed) is no layer at all: always folded, whatever the count
      if (prev.outSize === 0 || params(folded) <= params(prev) + params(L)) {
        layers[layers.length - 1] = folded;
        groups[groups.length - 1].push(k);
        continue;
      }
    }
    layers.push(L);
    groups.push([k]);
  }
  return { net: { inputSize: net.inputSize, layers }, groups };
}
