/**
 * Networks with planted redundancy, for tests and demos: dead neurons, always-active neurons, exact and scaled
 * duplicates, linearly dependent always-active neurons, and one whole hidden layer that is linear on the domain
 * [-1, 1]^n. Deterministic from a seed.
 */
import type { Layer, Network } from '../model/network.ts';
import { randomNetwork } from './random-network.ts';

export interface Planted {
  net: Network;
  dead: Array<[number, number]>;
  alwaysActive: Array<[number, number]>;
  /** [layer, copy, original, factor] */
  duplicates: Array<[number, number, number, number]>;
  linearLayer: number;
}

export function plantedNetwork(seed: number, sizes = [3, 16, 16, 12, 12, 2]): Planted {
  const net = randomNetwork(seed, sizes, { weightScale: 1.5, biasScale: 0.2 });
  const layers = net.layers as Layer[];
  const p: Planted = { net, dead: [], alwaysActive: [], duplicates: [], linearLayer: 2 };
  // Upper bound of |pre-activation input| per layer on [-1,1]^n, by interval propagation, to make planted facts hold.
  const mag = (k: number, i: number): number => {
    const L = layers[k];
    let s = 0;
    for (let j = 0; j < L.inSize; j++) s += Math.abs(L.weights[i * L.inSize + j]) * inputMag[k][j];
    return s;
  };
  const inputMag: Float64Array[] = [];
  const recompute = (): void => {
    inputMag.length = 0;
    let cur = new Float64Array(sizes[0]).fill(1);
    for (let k = 0; k < layers.length; k++) {
      inputMag.push(cur);
      const L = layers[k];
      const nx = new Float64Array(L.outSize);
      for (let i = 0; i < L.outSize; i++) {
        let s = Math.abs(L.bias[i]);
        for (let j = 0; j < L.inSize; j++) s += Math.abs(L.weights[i * L.inSize + j]) * cur[j];
        nx[i] = s;
      }
      cur = nx;
    }
  };
  recompute();
  // whole layer 2 linear: every neuron's bias exceeds what its inputs can subtract
  const lin = layers[p.linearLayer];
  for (let i = 0; i < lin.outSize; i++) lin.bias[i] = mag(p.linearLayer, i) + 0.5;
  recompute();
  // layer 0: two dead, one always active, an exact and a scaled duplicate
  const L0 = layers[0];
  for (const i of [1, 4]) {
    L0.bias[i] = -mag(0, i) - 0.3;
    p.dead.push([0, i]);
  }
  // six always active: linear rows in a 4-dimensional space ([w | b] with 3 inputs), so two are linearly dependent
  for (const i of [6, 10, 12, 13, 14, 15]) {
    L0.bias[i] = mag(0, i) + 0.3;
    p.alwaysActive.push([0, i]);
  }
  const copyRow = (L: Layer, from: number, to: number, a: number): void => {
    for (let j = 0; j < L.inSize; j++) L.weights[to * L.inSize + j] = a * L.weights[from * L.inSize + j];
    L.bias[to] = a * L.bias[from];
  };
  copyRow(L0, 2, 9, 1);
  p.duplicates.push([0, 9, 2, 1]);
  copyRow(L0, 3, 11, 2.5);
  p.duplicates.push([0, 11, 3, 2.5]);
  recompute();
  // layer 3: one dead, one scaled duplicate
  const L3 = layers[3];
  L3.bias[5] = -mag(3, 5) - 0.3;
  p.dead.push([3, 5]);
  copyRow(L3, 0, 7, 0.5);
  p.duplicates.push([3, 7, 0, 0.5]);
  return p;
}
