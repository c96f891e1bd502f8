/**
 * An independent evaluator of nnshrink JSON networks (plain arrays, written here and not taken from src/), and the
 * search for a witness: a point where two networks differ by more than a claim allows. A tampered certificate's
 * expectation 'refuted' rests on such a witness, found by the generator itself.
 */
import { makeRng } from './bytes.ts';
import type { Network } from '../../src/model/network.ts';

export interface PlainLayer {
  weights: number[][];
  bias: number[];
  activation: string[];
}
export interface PlainNet {
  inputSize: number;
  layers: PlainLayer[];
}

export function plainOf(net: Network): PlainNet {
  return {
    inputSize: net.inputSize,
    layers: net.layers.map((L) => ({
      weights: Array.from({ length: L.outSize }, (_, i) => Array.from(L.weights.subarray(i * L.inSize, (i + 1) * L.inSize))),
      bias: Array.from(L.bias),
      activation: Array.from(L.relu, (r) => (r ? 'relu' : 'identity')),
    })),
  };
}

export function evalPlain(net: PlainNet, x: number[]): number[] {
  let v = x;
  for (const L of net.layers) {
    v = L.weights.map((row, i) => {
      let z = L.bias[i];
      for (let j = 0; j < row.length; j++) z += row[j] * v[j];
      return L.activation[i] === 'relu' ? Math.max(z, 0) : z;
    });
  }
  return v;
}

export interface Witness {
  /** the largest |f - g| found */
  max: number;
  x: number[];
  /** the share of the sample points where |f - g| > threshold */
  share: number;
}

/** Samples the box and reports the largest output difference, and how often it exceeds `threshold`. */
export function witness(f: PlainNet, g: PlainNet, lo: number[], hi: number[], threshold: number, points = 4000, seed = 7): Witness {
  const rng = makeRng(seed);
  let best: Witness = { max: 0, x: lo.slice(), share: 0 };
  let over = 0;
  for (let s = 0; s < points; s++) {
    const x = lo.map((l, i) => l + rng.next() * (hi[i] - l));
    const a = evalPlain(f, x);
    const b = evalPlain(g, x);
    const d = Math.max(...a.map((v, k) => Math.abs(v - b[k])));
    if (d > threshold) over++;
    if (d > best.max) best = { max: d, x, share: 0 };
  }
  return { ...best, share: over / points };
}
