/**
 * One step of the difference bounds: the interval of d_out = out_f - out_g for one pair of aligned nodes, from the
 * intervals of the inputs' differences d and of the inputs themselves (f's and g's CROWN bounds). Linear ops:
 * W_f x_f - W_g x_g = W_f d + (W_f - W_g) x_g = W_g d + (W_f - W_g) x_f, both formed and intersected. ReLU-like:
 * the NeuroDiff cases from the two inputs' bounds and d's. Max-pool: the difference of two maxima lies within the
 * window's [min d, max d]. Value-moving ops move d. Others (products, quotients, smooth and softmax ops): a reason
 * to refuse, and the caller uses the product method.
 */
import type { GraphNode, NodeOfOp, Shape, Tensor } from '../../model/graph/types.ts';
import { expand } from '../../model/graph/shape.ts';
import type { Itv } from '../../bounds/graph/types.ts';
import { ruleOf } from '../../bounds/graph/registry.ts';
import { absTensor, linearItv, runForward, widened, zeroTensor } from '../../bounds/graph/util.ts';

export interface DiffView {
  readonly nf: GraphNode;
  readonly ng: GraphNode;
  readonly inShapes: readonly Shape[];
  readonly outShape: Shape;
  /** the inputs' differences */
  readonly d: readonly Itv[];
  readonly fIn: readonly Itv[];
  readonly gIn: readonly Itv[];
}

/** The step's interval and whether it still needs widening for the rounding of f's and g's own computations. */
export interface DiffStep {
  readonly itv: Itv;
  readonly exact: boolean;
  /** a linear op's (W_f - W_g) x_g + (b_f - b_g), when the parameters differ: d_out = W_f d_in + term */
  readonly term?: Itv;
}

export const isZero = (x: Itv): boolean => x.lo.every((v, i) => v === 0 && x.hi[i] === 0);
const zeroItv = (n: number): Itv => ({ lo: new Float64Array(n), hi: new Float64Array(n), mag: new Float64Array(n) });

/** the multiplying and the adding parameter of each linear operator with parameters */
const LINEAR: Record<string, readonly [string, string]> = { conv: ['weight', 'bias'], dense: ['weight', 'bias'], affine: ['scale', 'shift'], batchnorm: ['scale', 'shift'] };
const MOVES = new Set(['reshape', 'transpose', 'concat', 'pad']);
const PARAMLESS_LINEAR = new Set(['add', 'sub', 'averagepool', 'globalaveragepool']);

export function diffStep(v: DiffView): DiffStep | string {
  const op = v.nf.op;
  if (op in LINEAR) return { ...linearDiff(v, LINEAR[op]), exact: false };
  if (MOVES.has(op)) return { itv: paramless(v, op === 'pad' ? { ...v.nf, attrs: { ...(v.nf as NodeOfOp<'pad'>).attrs, value: 0 } } : v.nf), exact: true };
  if (PARAMLESS_LINEAR.has(op)) return { itv: paramless(v, v.nf), exact: false };
  if (op === 'maxpool') return { itv: maxpoolDiff(v), exact: true };
  if (op === 'relu' || op === 'leakyrelu' || op === 'prelu') {
    const a = slopes(v.nf, v.inShapes[0]);
    const b = slopes(v.ng, v.inShapes[0]);
    if (a.some((s, i) => s !== b[i])) return `node '${v.nf.name}' (${op}): the slopes differ`;
    return { itv: leakyDiff(v, a), exact: false };
  }
  if (op === 'clip') return { itv: clipDiff(v, v.nf as NodeOfOp<'clip'>), exact: false };
  return `node '${v.nf.name}' (${op}): no difference rule for this operator`;
}

/** d through an operator that is linear in its data inputs and has no parameters: the operator's own interval. */
function paramless(v: DiffView, node: GraphNode): Itv {
  return ruleOf(node.op).interval({ node, inShapes: v.inShapes, outShape: v.outShape, ins: v.d });
}

function sum(a: Itv | undefined, b: Itv | undefined, n: number): Itv {
  if (!a && !b) return zeroItv(n);
  if (!a || !b) return (a ?? b)!;
  const lo = a.lo.map((x, i) => x + b.lo[i]);
  const hi = a.hi.map((x, i) => x + b.hi[i]);
  return widened(lo, hi, a.mag.map((x, i) => x + b.mag[i]));
}

/** The linear op with the adding parameter zeroed: d_in's own part of d_out (W_f d_in). */
export function ownPart(n: GraphNode): GraphNode {
  const [mulKey, addKey] = LINEAR[n.op];
  const p = n.params as Record<string, Tensor>;
  return { ...n, params: { [mulKey]: p[mulKey], [addKey]: zeroTensor(p[addKey]) } } as GraphNode;
}

export const isLinearWithParams = (op: string): boolean => op in LINEAR;
export const isMove = (op: string): boolean => MOVES.has(op);

function linearDiff(v: DiffView, [mulKey, addKey]: readonly [string, string]): { itv: Itv; term?: Itv } {
  const pf = v.nf.params as Record<string, Tensor>;
  const pg = v.ng.params as Record<string, Tensor>;
  const delta = (k: string): Tensor => ({ shape: pf[k].shape, data: pf[k].data.map((x, i) => x - pg[k].data[i]) });
  const dMul = delta(mulKey);
  const dAdd = delta(addKey);
  const same = dMul.data.every((x) => x === 0) && dAdd.data.every((x) => x === 0);
  const n = v.outShape.reduce((a, b) => a * b, 1);
  const apply = (mul: Tensor, add: Tensor, x: Itv): Itv => {
    const node = { ...v.nf, params: { [mulKey]: mul, [addKey]: add } } as GraphNode;
    const abs = { ...v.nf, params: { [mulKey]: absTensor(mul), [addKey]: zeroTensor(add) } } as GraphNode;
    return linearItv({ node, inShapes: v.inShapes, outShape: v.outShape, ins: [x] }, abs);
  };
  const dZero = isZero(v.d[0]);
  const term = same ? undefined : apply(dMul, dAdd, v.gIn[0]);
  const a = sum(dZero ? undefined : apply(pf[mulKey], zeroTensor(pf[addKey]), v.d[0]), term, n);
  if (same || dZero) return { itv: a, term };
  const b = sum(apply(pg[mulKey], zeroTensor(pf[addKey]), v.d[0]), apply(dMul, dAdd, v.fIn[0]), n);
  const itv = { lo: a.lo.map((x, i) => Math.max(x, b.lo[i])), hi: a.hi.map((x, i) => Math.min(x, b.hi[i])), mag: a.mag.map((x, i) => Math.max(x, b.mag[i])) };
  return { itv, term };
}

function maxpoolDiff(v: DiffView): Itv {
  const run = (x: Float64Array): Float64Array => runForward(v.nf, [x], v.inShapes, v.outShape);
  const d = v.d[0];
  const hi = run(d.hi);
  const lo = run(d.lo.map((x) => -x)).map((x) => -x);
  return { lo, hi, mag: run(d.mag) };
}

/** per element of the input: the slope below 0 (ReLU 0, LeakyReLU alpha, PReLU its broadcast slope) */
export function slopes(n: GraphNode, xs: Shape): Float64Array {
  const len = xs.reduce((a, b) => a * b, 1);
  if (n.op === 'leakyrelu') return new Float64Array(len).fill(n.attrs.alpha);
  if (n.op === 'prelu') return expand(n.params.slope.data, n.params.slope.shape, xs);
  return new Float64Array(len);
}

const act = (x: number, a: number): number => (x >= 0 ? x : a * x);

/** One element of act_a(x_f) - act_a(x_g), x_f - x_g = d: [lo, hi]. */
function leakyElement(a: number, dl: number, du: number, lf: number, uf: number, lg: number, ug: number): [number, number] {
  if (lf >= 0 && lg >= 0) return [dl, du];
  if (uf <= 0 && ug <= 0) return a >= 0 ? [a * dl, a * du] : [a * du, a * dl];
  // the difference quotient lies between a and 1: d_y = s d for some s there
  const hull: [number, number] = [Math.min(dl, a * dl, du, a * du), Math.max(dl, a * dl, du, a * du)];
  if (!(a >= 0 && a <= 1)) return hull;
  let [lo, hi] = hull;
  const meet = (l: number, h: number): void => {
    lo = Math.max(lo, l);
    hi = Math.min(hi, h);
  };
  meet(act(lf, a) - act(ug, a), act(uf, a) - act(lg, a)); // monotone
  const b = 1 - a;
  // one side's phase decided: d_y is a min or max of two linear pieces (act_a(z) = max(z, a z) for a <= 1)
  if (lf >= 0) meet(Math.min(dl, b * lf + a * dl), Math.min(du, b * uf + a * du));
  if (lg >= 0) meet(Math.max(dl, a * dl - b * ug), Math.max(du, a * du - b * lg));
  if (uf <= 0) meet(Math.min(dl - b * uf, a * dl), Math.min(du - b * lf, a * du));
  if (ug <= 0) meet(Math.max(dl + b * lg, a * dl), Math.max(du + b * ug, a * du));
  // crossed only by rounding (each piece is sound): keep the rule that needs no other bound
  return lo <= hi ? [lo, hi] : hull;
}

function elementwise(v: DiffView, rule: (i: number, dl: number, du: number, lf: number, uf: number, lg: number, ug: number) => [number, number]): Itv {
  const [d, f, g] = [v.d[0], v.fIn[0], v.gIn[0]];
  const n = d.lo.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    [lo[i], hi[i]] = rule(i, d.lo[i], d.hi[i], f.lo[i], f.hi[i], g.lo[i], g.hi[i]);
    mag[i] = 2 * (d.mag[i] + f.mag[i] + g.mag[i]);
  }
  return widened(lo, hi, mag);
}

function leakyDiff(v: DiffView, a: Float64Array): Itv {
  return elementwise(v, (i, dl, du, lf, uf, lg, ug) => leakyElement(a[i], dl, du, lf, uf, lg, ug));
}

function clipDiff(v: DiffView, node: NodeOfOp<'clip'>): Itv {
  const { min, max } = node.attrs;
  const c = (x: number): number => Math.min(max, Math.max(min, x));
  return elementwise(v, (_i, dl, du, lf, uf, lg, ug) => {
    if (lf >= min && lg >= min && uf <= max && ug <= max) return [dl, du];
    if ((uf <= min && ug <= min) || (lf >= max && lg >= max)) return [0, 0];
    // slopes 0 or 1: d_y = s d with s in [0, 1]; and clip is monotone
    return [Math.max(Math.min(dl, 0), c(lf) - c(ug)), Math.min(Math.max(du, 0), c(uf) - c(lg))];
  });
}
