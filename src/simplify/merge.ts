/**
 * Exact forward redundancy: two ReLU neurons of one layer whose incoming weights and bias are positive multiples of
 * each other (row_j = alpha row_i, alpha > 0) satisfy relu(z_j) = alpha relu(z_i) everywhere, so j can be folded
 * into i's outgoing weights. Rows are compared after scaling; the verifier later bounds the tiny residual soundly.
 */
import type { Network } from '../model/network.ts';

export interface MergeFound {
  layer: number;
  /** neuron that disappears */
  from: number;
  /** neuron that absorbs it */
  into: number;
  alpha: number;
}

/** Relative tolerance on proportional rows: far below anything a trained network produces by accident. */
export const MERGE_REL_TOL = 1e-12;

export function findProportionalNeurons(net: Network, eligible: (layer: number, j: number) => boolean): MergeFound[] {
  const found: MergeFound[] = [];
  for (let k = 0; k < net.layers.length - 1; k++) {
    const L = net.layers[k];
    const n = L.inSize;
    const norms = new Float64Array(L.outSize);
    for (let j = 0; j < L.outSize; j++) {
      let s = L.bias[j] * L.bias[j];
      for (let t = 0; t < n; t++) s += L.weights[j * n + t] ** 2;
      norms[j] = Math.sqrt(s);
    }
    const taken = new Uint8Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      if (taken[i] || !eligible(k, i) || norms[i] === 0) continue;
      for (let j = i + 1; j < L.outSize; j++) {
        if (taken[j] || !eligible(k, j) || norms[j] === 0 || L.relu[j] !== L.relu[i]) continue;
        const alpha = norms[j] / norms[i];
        let ok = Math.abs(L.bias[j] - alpha * L.bias[i]) <= MERGE_REL_TOL * norms[j];
        for (let t = 0; t < n && ok; t++) {
          if (Math.abs(L.weights[j * n + t] - alpha * L.weights[i * n + t]) > MERGE_REL_TOL * norms[j]) ok = false;
        }
        if (ok) {
          found.push({ layer: k, from: j, into: i, alpha });
          taken[j] = 1;
        }
      }
    }
  }
  return found;
}
