/**
 * A reducer (conv without padding, dense) losing constant input channels takes their terms into its bias:
 * b'_j = b_j + sum over dropped channels k of c_k * (sum of the weights of j on k). Exact in real arithmetic; the
 * stored b'_j is a rounding of it, and the interval says how far from the exact value it may be (check.ts bounds
 * what that does to the outputs: perturb.ts).
 */
import type { GraphNode, Shape } from '../../model/graph/types.ts';
import { exact, isZero, sum, weighted, weightSum, type Interval } from './constants.ts';

export interface FoldedBias {
  /** per output channel of n (all of them, before any output channel is dropped): the float64 value to store */
  point: Float64Array;
  /** per output channel: an interval holding the exact folded value */
  exact: Interval[];
}

/** n's biases with the dropped input channels' constant terms folded in, or null when none of them is a non-zero
 * constant (then the bias is unchanged, bit for bit). */
export function foldedBias(n: GraphNode, inShape: Shape, dropped: readonly number[], consts: ReadonlyMap<number, Interval> | undefined): FoldedBias | null {
  if (n.op !== 'conv' && n.op !== 'dense') return null;
  const folded = dropped.filter((k) => consts?.has(k) && !isZero(consts.get(k)!));
  if (!folded.length) return null;
  const b = n.params.bias.data;
  const point = new Float64Array(b.length);
  const out: Interval[] = [];
  for (let j = 0; j < b.length; j++) {
    let p = b[j];
    let iv = exact(b[j]);
    for (const k of folded) {
      const ws = weightSum(n, inShape, j, k);
      if (!ws) continue;
      const c = consts!.get(k)!;
      p += ws.s * ((c.lo + c.hi) / 2);
      iv = sum(iv, weighted(c, ws), 1);
    }
    point[j] = p;
    out.push(iv);
  }
  return { point, exact: out };
}
