/**
 * The backward engine: S linear functions of one tensor (rows of A over it) carried back through the DAG in reverse
 * topological order, each node's rule mapping its output's coefficients to its inputs' plus a constant per row,
 * coefficients summed over a tensor's consumers; then the rows concretised at the input box. Every rule's constant
 * and rounding magnitude add up per row, and the lower bound is widened outward by the whole magnitude.
 */
import type { Graph } from '../../model/graph/types.ts';
import { widenLo } from '../round.ts';
import type { Slopes, TensorBounds } from './types.ts';
import { ruleOf } from './registry.ts';
import { backViewOf } from './interval.ts';

/** What one row's pass leaves for the slopes' gradient (S = 1 only). */
export interface BackRecord {
  /** each visited node's output coefficients, by node name */
  readonly A: Map<string, Float64Array>;
  /** each visited node's relaxed evaluation (absent: its own kernel) */
  readonly relaxed: Map<string, ((ins: readonly (Float64Array | undefined)[]) => Float64Array) | undefined>;
  /** the box corner minimising the final linear function */
  xStar?: Float64Array;
}

export const newRecord = (): BackRecord => ({ A: new Map(), relaxed: new Map() });

/** Adds B into the coefficients of tensor t, copying an array the engine does not own before writing into it. */
function accumulate(acc: Map<string, Float64Array>, owned: Set<Float64Array>, t: string, B: Float64Array): void {
  const cur = acc.get(t);
  if (!cur) {
    acc.set(t, B);
    return;
  }
  const dst = owned.has(cur) ? cur : Float64Array.from(cur);
  owned.add(dst);
  for (let i = 0; i < dst.length; i++) dst[i] += B[i];
  acc.set(t, dst);
}

/**
 * Sound lower bounds of the S rows A0 (S x size(target), row-major) applied to tensor `target`, over the box that
 * bounds.get(input) holds; `bounds` must hold every tensor up to the target.
 */
export function lowerRows(g: Graph, bounds: TensorBounds, target: string, A0: Float64Array, S: number, slopes?: Slopes, rec?: BackRecord): Float64Array {
  const acc = new Map<string, Float64Array>([[target, A0]]);
  const owned = new Set<Float64Array>();
  const bias = new Float64Array(S);
  const mag = new Float64Array(S);
  const last = g.nodes.findIndex((n) => n.output === target);
  for (let i = last; i >= 0; i--) {
    const n = g.nodes[i];
    const A = acc.get(n.output);
    if (!A) continue;
    acc.delete(n.output);
    owned.delete(A);
    const res = ruleOf(n.op).backward(backViewOf(g, bounds, n), A, S, slopes?.get(n.name));
    if (rec) {
      rec.A.set(n.name, A);
      rec.relaxed.set(n.name, res.relaxed);
    }
    for (let s = 0; s < S; s++) {
      bias[s] += res.bias[s];
      mag[s] += res.mag[s];
    }
    res.ins.forEach((B, k) => B && accumulate(acc, owned, n.inputs[k], B));
  }
  return concretise(bounds, g.input.name, acc.get(g.input.name), S, bias, mag, rec);
}

/** min over the box of each row's linear function plus its constant, widened by the row's whole magnitude. */
function concretise(bounds: TensorBounds, input: string, A: Float64Array | undefined, S: number, bias: Float64Array, mag: Float64Array, rec?: BackRecord): Float64Array {
  const { lo, hi } = bounds.get(input)!;
  const n = lo.length;
  const out = new Float64Array(S);
  if (rec) rec.xStar = Float64Array.from(lo, (l, j) => (A && A[j] < 0 ? hi[j] : l));
  for (let s = 0; s < S; s++) {
    let v = bias[s];
    let m = mag[s] + Math.abs(bias[s]);
    if (A) {
      for (let j = 0, o = s * n; j < n; j++) {
        const a = A[o + j];
        if (a === 0) continue;
        v += a > 0 ? a * lo[j] : a * hi[j];
        m += Math.abs(a) * Math.max(Math.abs(lo[j]), Math.abs(hi[j]));
      }
    }
    out[s] = widenLo(v, m);
  }
  return out;
}
