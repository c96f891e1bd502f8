/**
 * Compaction: drop neurons whose outgoing weights are all zero (removed, merged away, or useless), keeping a map
 * to f's coordinates. Dropping a neuron whose every outgoing weight is exactly zero removes only `+ 0 * a` terms, so
 * the compact network computes bit-for-bit what the aligned one computes; `expandToAligned` inverts it exactly.
 */
import type { Layer, Network } from '../model/network.ts';
import { fail } from '../errors.ts';

export interface NeuronMap {
  /** per hidden layer of f: the f indices that survive, in order (the output layer is never compacted) */
  kept: number[][];
  /** f's layer sizes, input first */
  sizes: number[];
}

/** Removes hidden neurons whose outgoing column is entirely zero, repeatedly (a removal can empty a column below). */
export function compact(g: Network): { net: Network; map: NeuronMap } {
  const last = g.layers.length - 1;
  const alive = g.layers.map((L) => new Uint8Array(L.outSize).fill(1));
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = last - 1; k >= 0; k--) {
      const next = g.layers[k + 1];
      const n = next.inSize;
      for (let j = 0; j < g.layers[k].outSize; j++) {
        if (!alive[k][j]) continue;
        let any = false;
        for (let r = 0; r < next.outSize && !any; r++) if (alive[k + 1][r] && next.weights[r * n + j] !== 0) any = true;
        if (!any) {
          alive[k][j] = 0;
          changed = true;
        }
      }
    }
  }
  const kept: number[][] = [];
  for (let k = 0; k < last; k++) {
    const ks: number[] = [];
    alive[k].forEach((a, j) => {
      if (a) ks.push(j);
    });
    kept.push(ks);
  }
  const sizes = [g.inputSize, ...g.layers.map((L) => L.outSize)];
  const layers: Layer[] = g.layers.map((L, k) => {
    const rows = k < last ? kept[k] : [...Array(L.outSize).keys()];
    const cols = k === 0 ? [...Array(L.inSize).keys()] : kept[k - 1];
    const W = new Float64Array(rows.length * cols.length);
    rows.forEach((r, i) => cols.forEach((c, j) => (W[i * cols.length + j] = L.weights[r * L.inSize + c])));
    return {
      inSize: cols.length,
      outSize: rows.length,
      weights: W,
      bias: Float64Array.from(rows.map((r) => L.bias[r])),
      relu: Uint8Array.from(rows.map((r) => L.relu[r])),
    };
  });
  return { net: { inputSize: g.inputSize, layers }, map: { kept, sizes } };
}

/**
 * Re-inserts the dropped neurons (zero rows and zero outgoing columns) so a compact network can be compared with f
 * neuron by neuron. Exact: it adds only zero terms.
 */
export function expandToAligned(net: Network, map: NeuronMap): Network {
  const last = map.sizes.length - 2;
  if (net.layers.length !== last + 1 || net.inputSize !== map.sizes[0]) {
    fail('neuron map does not fit the network (layer count or input size differs)');
  }
  const layers: Layer[] = net.layers.map((L, k) => {
    const outF = map.sizes[k + 1];
    const inF = map.sizes[k];
    const rows = k < last ? map.kept[k] : [...Array(outF).keys()];
    const cols = k === 0 ? [...Array(inF).keys()] : map.kept[k - 1];
    if (rows.length !== L.outSize || cols.length !== L.inSize) fail(`neuron map does not fit layer ${k + 1}`);
    const W = new Float64Array(outF * inF);
    const b = new Float64Array(outF);
    const relu = new Uint8Array(outF).fill(k < last ? 1 : 0);
    rows.forEach((r, i) => {
      b[r] = L.bias[i];
      relu[r] = L.relu[i];
      cols.forEach((c, j) => (W[r * inF + c] = L.weights[i * L.inSize + j]));
    });
    return { inSize: inF, outSize: outF, weights: W, bias: b, relu };
  });
  return { inputSize: net.inputSize, layers };
}
