/**
 * The graph MILP's rows for linear operators and for the relaxation of smooth ones, taken from each operator's own
 * code so that no operator is encoded twice: value-moving operators (reshape, transpose, concat, pad) by running
 * their forward kernel on index codes (each output element is then one input element or a constant: no rows);
 * elementwise affine ones (affine, batchnorm) by their backward step on a row of ones (the scales) and their forward
 * kernel at zero (the shifts); every other linear operator by its backward step on identity rows, in chunks, keeping
 * the non-zeros (a convolution's row has C_in x kh x kw of them); a nonlinear operator without an exact encoding by
 * its backward step on rows +e_j and -e_j: its relaxation's lower and upper lines, loosened by their rounding.
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { ruleOf } from '../../bounds/graph/registry.ts';
import { backViewOf } from '../../bounds/graph/interval.ts';
import { runForward } from '../../bounds/graph/util.ts';
import { widenLo } from '../../bounds/round.ts';
import { newRep, type MilpBuilder, type Rep } from './milp-model.ts';

export interface EncodeCtx {
  readonly g: Graph;
  readonly bounds: TensorBounds;
  readonly b: MilpBuilder;
  readonly reps: Map<string, Rep>;
  readonly fixed?: ReadonlyMap<string, Int8Array>;
}

export const MOVING = new Set(['reshape', 'transpose', 'concat', 'pad']);
export const DIAGONAL = new Set(['affine', 'batchnorm']);
export const LINEAR_ROWS = new Set(['conv', 'dense', 'add', 'sub', 'averagepool', 'globalaveragepool']);

/** Doubles of A and B held per chunk of rows (32 MB). */
const CHUNK_DOUBLES = 1 << 22;

const shapeOf = (c: EncodeCtx, t: string): readonly number[] => c.g.shapes.get(t)!;
const repOf = (c: EncodeCtx, t: string): Rep => c.reps.get(t) ?? (() => { throw new Error(`internal: tensor '${t}' not encoded`); })();

/** Coefficients scanned to extract the node's rows (the extraction's work), 0 for the operators that need none. */
export function scanWork(g: Graph, n: GraphNode, relaxed: boolean): number {
  if (!relaxed && !LINEAR_ROWS.has(n.op)) return 0;
  const ins = n.inputs.reduce((a, t) => a + size(g.shapes.get(t)!), 0);
  return (relaxed ? 2 : 1) * size(g.shapes.get(n.output)!) * ins;
}

/** reshape, transpose, concat, pad: each output element is an input element or a constant, found by codes. */
export function encodeMoving(c: EncodeCtx, n: GraphNode): Rep {
  if (n.op === 'reshape') return repOf(c, n.inputs[0]);
  const inShapes = n.inputs.map((t) => shapeOf(c, t));
  const sizes = inShapes.map(size);
  const N = sizes.reduce((a, s) => a + s, 0);
  const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((a, s) => a + s, 0));
  const codes = (shift: number): Float64Array[] => sizes.map((s, k) => Float64Array.from({ length: s }, (_, e) => offsets[k] + e + 1 + shift));
  const outShape = shapeOf(c, n.output);
  const o1 = runForward(n, codes(0), inShapes, outShape);
  const o2 = runForward(n, codes(N), inShapes, outShape);
  const ins = n.inputs.map((t) => repOf(c, t));
  const out = newRep(o1.length);
  for (let e = 0; e < o1.length; e++) {
    if (o2[e] === o1[e]) {
      out.cst[e] = o1[e]; // a constant (padding)
      continue;
    }
    if (o2[e] - o1[e] !== N) throw new Error(`internal: node '${n.name}' (${n.op}) does not move values`);
    const src = o1[e] - 1;
    let k = 0;
    while (k + 1 < offsets.length && offsets[k + 1] <= src) k++;
    const i = src - offsets[k];
    out.col[e] = ins[k].col[i];
    out.coef[e] = ins[k].coef[i];
    out.cst[e] = ins[k].cst[i];
  }
  return out;
}

/** affine, batchnorm: y_e = s_e x_e + t_e, s from the backward step on a row of ones, t from the kernel at 0. */
export function encodeDiagonal(c: EncodeCtx, n: GraphNode): Rep {
  const view = backViewOf(c.g, c.bounds, n);
  const m = size(view.outShape);
  const scale = ruleOf(n.op).backward(view, new Float64Array(m).fill(1), 1).ins[0]!;
  const shift = runForward(n, [new Float64Array(m)], view.inShapes, view.outShape);
  const x = repOf(c, n.inputs[0]);
  const out = newRep(m);
  for (let e = 0; e < m; e++) {
    const s = scale[e];
    out.col[e] = s === 0 ? -1 : x.col[e];
    out.coef[e] = s * x.coef[e];
    out.cst[e] = s * x.cst[e] + shift[e];
  }
  return out;
}

/** Rows of the backward step on rows A (S x outSize), one call per chunk; `each(r, B, bias, mag)` per row. */
function backwardRows(c: EncodeCtx, n: GraphNode, rowsPer: number, fill: (A: Float64Array, first: number, count: number) => void, each: (r: number, ins: readonly (Float64Array | null)[], bias: number, mag: number) => void): void {
  const view = backViewOf(c.g, c.bounds, n);
  const m = size(view.outShape);
  const width = m + view.inShapes.reduce((a, s) => a + size(s), 0);
  const chunk = Math.max(1, Math.floor(CHUNK_DOUBLES / width / rowsPer));
  for (let p = 0; p < m; p += chunk) {
    const count = Math.min(chunk, m - p);
    const A = new Float64Array(rowsPer * count * m);
    fill(A, p, count);
    const res = ruleOf(n.op).backward(view, A, rowsPer * count);
    for (let r = 0; r < rowsPer * count; r++) each(r, res.ins, res.bias[r], res.mag[r]);
  }
}

/** Adds row r of each input's coefficients (times `sign`), substituted through the inputs' Reps. */
function addInputs(c: EncodeCtx, n: GraphNode, ins: readonly (Float64Array | null)[], r: number, sign: number): void {
  ins.forEach((B, k) => {
    if (!B) return;
    const x = repOf(c, n.inputs[k]);
    const len = x.col.length;
    for (let i = 0, o = r * len; i < len; i++) {
      const w = B[o + i];
      if (w !== 0) c.b.addRep(x, i, sign * w);
    }
  });
}

/** A linear operator: y_j = B_j . inputs + bias_j from identity rows; new columns only where two or more mix. */
export function encodeLinearRows(c: EncodeCtx, n: GraphNode): Rep {
  const { lo, hi } = c.bounds.get(n.output)!;
  const m = lo.length;
  const out = newRep(m);
  let base = 0;
  backwardRows(
    c,
    n,
    1,
    (A, p, count) => {
      base = p;
      for (let r = 0; r < count; r++) A[r * m + p + r] = 1;
    },
    (r, ins, bias) => {
      addInputs(c, n, ins, r, 1);
      c.b.constant(bias);
      c.b.toRep(out, base + r, lo[base + r], hi[base + r]);
    },
  );
  return out;
}

/** A nonlinear operator by its relaxation: a column per output element between its lower and upper lines. */
export function encodeRelaxed(c: EncodeCtx, n: GraphNode): Rep {
  const { lo, hi } = c.bounds.get(n.output)!;
  const m = lo.length;
  const out = newRep(m);
  for (let e = 0; e < m; e++) {
    out.col[e] = c.b.addCol(lo[e], hi[e]);
    out.coef[e] = 1;
  }
  let base = 0;
  backwardRows(
    c,
    n,
    2,
    (A, p, count) => {
      base = p;
      for (let r = 0; r < count; r++) {
        A[2 * r * m + p + r] = 1;
        A[(2 * r + 1) * m + p + r] = -1;
      }
    },
    (r, ins, bias, mag) => {
      // row r: sign * y_e >= B . inputs + bias, up to the rule's rounding
      const sign = r % 2 === 0 ? 1 : -1;
      c.b.term(out.col[base + (r >> 1)], sign);
      addInputs(c, n, ins, r, -1);
      c.b.constant(-bias);
      c.b.row(widenLo(0, mag + Math.abs(bias)), Infinity);
    },
  );
  return out;
}
