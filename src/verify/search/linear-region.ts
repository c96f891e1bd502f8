/**
 * Where every ReLU below layer k keeps a fixed phase, the network is affine in its input: layer k's pre-activations
 * are affine functions of x, and the region is the box cut by one half-space per ReLU whose phase must be enforced.
 * An LP over that region gives the exact optimum of a linear objective there (a candidate point only: callers
 * evaluate it). Used by the region walk (search.ts) and by ReLU splitting's fully split nodes (relu-bab.ts).
 */
import type { Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import { lpArgmin } from './milp.ts';

/** Phase of ReLU (l, i) on the region: active or not, and whether its sign must be enforced by a half-space. */
export type PhaseOf = (l: number, i: number) => { active: boolean; enforce: boolean };

/** The point of the box (within the region) minimising c . z_k, or undefined (no solver, no time, infeasible). */
export function regionArgmin(net: Network, box: Box, k: number, c: Float64Array, phaseOf: PhaseOf, timeMs: number): Float64Array | undefined {
  const n = net.inputSize;
  const W = n + 1;
  // H: the previous layer's activations as affine functions of the inputs (n coefficients, then the constant)
  let H = new Float64Array(n * W);
  for (let t = 0; t < n; t++) H[t * W + t] = 1;
  const rows: Float64Array[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let l = 0; l <= k; l++) {
    const L = net.layers[l];
    const m = L.outSize;
    const Z = new Float64Array(m * W);
    for (let i = 0; i < m; i++) {
      const zo = i * W;
      Z[zo + n] = L.bias[i];
      for (let j = 0; j < L.inSize; j++) {
        const w = L.weights[i * L.inSize + j];
        if (w === 0) continue;
        const ho = j * W;
        for (let t = 0; t < W; t++) Z[zo + t] += w * H[ho + t];
      }
    }
    if (l === k) {
      const cost = new Float64Array(n);
      for (let i = 0; i < m; i++) if (c[i] !== 0) for (let t = 0; t < n; t++) cost[t] += c[i] * Z[i * W + t];
      return lpArgmin(box, cost, rows, lo, hi, timeMs);
    }
    for (let i = 0; i < m; i++) {
      if (!L.relu[i]) continue;
      const { active, enforce } = phaseOf(l, i);
      if (enforce) {
        // active: z = a . x + b >= 0; inactive: z <= 0
        rows.push(Z.slice(i * W, i * W + n));
        lo.push(active ? -Z[i * W + n] : -Infinity);
        hi.push(active ? Infinity : -Z[i * W + n]);
      }
      if (!active) Z.fill(0, i * W, (i + 1) * W);
    }
    H = Z;
  }
  return undefined;
}
