/**
 * Exact encodings of the piecewise-linear operators. ReLU-like (relu, leakyrelu, prelu): y = s z + (1 - s) relu(z)
 * for the negative-side slope s, so each needs one relu(z): linear when z's bounds (or a fixed phase) decide it,
 * else the big-M encoding with one binary d (r >= z, r <= z - l (1 - d), r <= u d, 0 <= r <= u). MaxPool: per window,
 * only the inputs that can be the max (upper bound above the window's largest lower bound); one candidate is the
 * output itself, several get a binary each (y >= x_j, y <= x_j + (U - l_j)(1 - d_j), sum d_j = 1).
 */
import type { GraphNode } from '../../model/graph/types.ts';
import { broadcastIndex } from '../../model/graph/shape.ts';
import type { Itv } from '../../bounds/graph/types.ts';
import { poolTaps } from '../../model/graph/ops/pool-common.ts';
import { newRep, type Rep } from './milp-model.ts';
import type { EncodeCtx } from './milp-linear.ts';

export const RELU_LIKE = new Set(['relu', 'leakyrelu', 'prelu']);

/** The fixed phases contradict the bounds: no point of the box has them. */
export class ProvedInfeasible extends Error {
  constructor(node: string, e: number) {
    super(`node '${node}' element ${e}: the fixed phase contradicts its bounds`);
    this.name = 'ProvedInfeasible';
  }
}

/** The negative-side slope of a ReLU-like node per element. */
export function slopeOf(n: GraphNode, inShape: readonly number[]): (e: number) => number {
  if (n.op === 'leakyrelu') return () => n.attrs.alpha;
  if (n.op === 'prelu') {
    const idx = broadcastIndex(n.params.slope.shape, inShape);
    const s = n.params.slope.data;
    return (e) => s[idx[e]];
  }
  return () => 0;
}

const copy = (out: Rep, e: number, x: Rep, i: number, w = 1): void => {
  out.col[e] = w === 0 ? -1 : x.col[i];
  out.coef[e] = w * x.coef[i];
  out.cst[e] = w * x.cst[i];
};

/** Whether element e of a ReLU-like input needs a binary under the fixed phases (the pre-count of binaries). */
export function needsBinary(z: Itv, fixed: Int8Array | undefined, e: number): boolean {
  return z.lo[e] < 0 && z.hi[e] > 0 && !(fixed && fixed[e] !== 0);
}

export function encodeReluLike(c: EncodeCtx, n: GraphNode): Rep {
  const z = c.bounds.get(n.inputs[0])!;
  const y = c.bounds.get(n.output)!;
  const x = c.reps.get(n.inputs[0])!;
  const slope = slopeOf(n, c.g.shapes.get(n.inputs[0])!);
  const fixed = c.fixed?.get(n.name);
  const b = c.b;
  const out = newRep(z.lo.length);
  for (let e = 0; e < z.lo.length; e++) {
    const s = slope(e);
    const f = fixed ? fixed[e] : 0;
    const l = z.lo[e];
    const u = z.hi[e];
    if ((f > 0 && u < 0) || (f < 0 && l > 0)) throw new ProvedInfeasible(n.name, e);
    if (f !== 0 && x.col[e] < 0 && f * x.cst[e] < 0) throw new ProvedInfeasible(n.name, e);
    if (f > 0 || (f === 0 && l >= 0)) {
      if (f > 0 && l < 0 && x.col[e] >= 0) {
        b.addRep(x, e, 1);
        b.row(0, Infinity); // z >= 0
      }
      copy(out, e, x, e);
    } else if (f < 0 || u <= 0) {
      if (f < 0 && u > 0 && x.col[e] >= 0) {
        b.addRep(x, e, 1);
        b.row(-Infinity, 0); // z <= 0
      }
      copy(out, e, x, e, s);
    } else if (x.col[e] < 0) {
      const v = x.cst[e];
      out.cst[e] = v >= 0 ? v : s * v;
    } else {
      const r = reluColumn(c, x, e, l, u);
      if (s === 0) [out.col[e], out.coef[e], out.cst[e]] = [r, 1, 0];
      else {
        b.addRep(x, e, s);
        b.term(r, 1 - s);
        b.toRep(out, e, y.lo[e], y.hi[e]);
      }
    }
  }
  return out;
}

/** r = relu(z_e) for z_e in [l, u], l < 0 < u, by big-M with one binary. */
function reluColumn(c: EncodeCtx, x: Rep, e: number, l: number, u: number): number {
  const b = c.b;
  const r = b.addCol(0, u);
  const d = b.addCol(0, 1, true);
  b.term(r, 1);
  b.addRep(x, e, -1);
  b.row(0, Infinity); // r >= z
  b.term(r, 1);
  b.addRep(x, e, -1);
  b.term(d, -l);
  b.row(-Infinity, -l); // r <= z - l (1 - d)
  b.term(r, 1);
  b.term(d, -u);
  b.row(-Infinity, 0); // r <= u d
  return r;
}

/** Per output of a max-pool: the inputs that can be its max (the one of largest lower bound first). */
export function poolCandidates(n: GraphNode & { op: 'maxpool' }, inShape: readonly number[], outShape: readonly number[], x: Itv): Int32Array[] {
  const [, H, W] = inShape;
  const [C, OH, OW] = outShape;
  const [rows, cols] = poolTaps(n.attrs, inShape, outShape);
  const res: Int32Array[] = [];
  for (let ch = 0; ch < C; ch++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const taps: number[] = [];
        for (const r of rows[oh]) for (const q of cols[ow]) taps.push(ch * H * W + r * W + q);
        let best = taps[0];
        for (const j of taps) if (x.lo[j] > x.lo[best]) best = j;
        // an input whose upper bound does not exceed the best's lower bound is never above the best
        res.push(Int32Array.from([best, ...taps.filter((j) => j !== best && x.hi[j] > x.lo[best])]));
      }
    }
  }
  return res;
}

export function encodeMaxpool(c: EncodeCtx, n: GraphNode & { op: 'maxpool' }): Rep {
  const z = c.bounds.get(n.inputs[0])!;
  const y = c.bounds.get(n.output)!;
  const x = c.reps.get(n.inputs[0])!;
  const cands = poolCandidates(n, c.g.shapes.get(n.inputs[0])!, c.g.shapes.get(n.output)!, z);
  const b = c.b;
  const out = newRep(cands.length);
  cands.forEach((js, k) => {
    if (js.length === 1) return copy(out, k, x, js[0]);
    let U = -Infinity;
    for (const j of js) U = Math.max(U, z.hi[j]);
    const col = b.addCol(Math.max(z.lo[js[0]], y.lo[k]), Math.min(U, y.hi[k]));
    [out.col[k], out.coef[k], out.cst[k]] = [col, 1, 0];
    const ds: number[] = [];
    for (const j of js) {
      const d = b.addCol(0, 1, true);
      ds.push(d);
      b.term(col, 1);
      b.addRep(x, j, -1);
      b.row(0, Infinity); // y >= x_j
      b.term(col, 1);
      b.addRep(x, j, -1);
      b.term(d, U - z.lo[j]);
      b.row(-Infinity, U - z.lo[j]); // y <= x_j + (U - l_j)(1 - d_j)
    }
    for (const d of ds) b.term(d, 1);
    b.row(1, 1); // exactly one window input is the max
  });
  return out;
}
