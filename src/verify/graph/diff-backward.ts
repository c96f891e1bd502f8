/**
 * Backward bounds of the difference: S linear functions of the output difference d carried back node by node in
 * terms of the d of earlier tensors, as CROWN carries a tensor back in terms of earlier ones. A linear op passes
 * W_f^T (its own backward step) and leaves (W_f - W_g) x_g + (b_f - b_g) as a constant interval (the forward pass's
 * term); a ReLU-like op relaxes d_out between two lines in d_in (chords of min(d, a d) and max(d, a d), or the
 * forward interval where the two graphs' bounds cut it tighter); a max-pool ends the row at its interval. At the
 * input d = 0, so what is left is the constant. This keeps the cancellation between paths that the intervals lose.
 */
import type { Graph, GraphNode, NodeOfOp } from '../../model/graph/types.ts';
import type { BackResult, BackViewBase, Itv, TensorBounds } from '../../bounds/graph/types.ts';
import { ruleOf } from '../../bounds/graph/registry.ts';
import { constantBackward, linesBackward, newLines, setExact, type Lines } from '../../bounds/graph/rules/elementwise.ts';
import { widenLo } from '../../bounds/round.ts';
import type { Alignment } from './diff-align.ts';
import { isLinearWithParams, isMove, isZero, ownPart, slopes } from './diff-rules.ts';

export interface DiffState {
  f: Graph;
  align: Alignment & { ok: true };
  fb: TensorBounds;
  gb: TensorBounds;
  toG: ReadonlyMap<string, string>;
  d: ReadonlyMap<string, Itv>;
  terms: ReadonlyMap<string, Itv>;
}

/** Lines of d_out in d_in for one ReLU-like / clip element; undefined: the forward interval (constants). */
function elementLines(a: number, dl: number, du: number, lo: number, hi: number): [number, number, number, number] {
  if (!(a >= 0 && a <= 1) || !(du > dl)) return [0, lo, 0, hi];
  const up = (x: number): number => Math.max(x, a * x);
  const dn = (x: number): number => Math.min(x, a * x);
  const ku = (up(du) - up(dl)) / (du - dl);
  const kl = (dn(du) - dn(dl)) / (du - dl);
  // a chord of the hull, unless the two graphs' own bounds cut the interval below the chord's range
  const [kL, cL] = lo > Math.min(dn(dl), dn(du)) ? [0, lo] : [kl, dn(dl) - kl * dl];
  const [kU, cU] = hi < Math.max(up(dl), up(du)) ? [0, hi] : [ku, up(dl) - ku * dl];
  return [kL, cL, kU, cU];
}

function leakyLines(n: GraphNode, view: BackViewBase, f: Itv, g: Itv): Lines {
  const d = view.ins[0];
  const out = view.out;
  const len = d.lo.length;
  const L = newLines(len);
  const clip = n.op === 'clip' ? (n as NodeOfOp<'clip'>).attrs : undefined;
  const a = clip ? new Float64Array(len) : slopes(n, view.inShapes[0]);
  for (let i = 0; i < len; i++) {
    const [lo, hi] = clip ? [clip.min, clip.max] : [0, Infinity];
    if (f.lo[i] >= lo && g.lo[i] >= lo && f.hi[i] <= hi && g.hi[i] <= hi) setExact(L, i, 1, 0);
    else if (!clip && f.hi[i] <= 0 && g.hi[i] <= 0) setExact(L, i, a[i], 0);
    else [L.kl[i], L.cl[i], L.ku[i], L.cu[i]] = elementLines(a[i], d.lo[i], d.hi[i], out.lo[i], out.hi[i]);
  }
  return L;
}

function withMag(x: Itv, f: Itv, g: Itv): Itv {
  return { lo: x.lo, hi: x.hi, mag: x.mag.map((m, i) => m + f.mag[i] + g.mag[i]) };
}

/** One aligned node's backward step for the rows A over its output's difference. */
function stepBack(s: DiffState, nf: GraphNode, ng: GraphNode, A: Float64Array, S: number): BackResult {
  const f = s.f;
  const fOut = s.fb.get(nf.output)!;
  const gOut = s.gb.get(ng.output)!;
  const view: BackViewBase = { node: nf, inShapes: nf.inputs.map((t) => f.shapes.get(t)!), outShape: f.shapes.get(nf.output)!, ins: nf.inputs.map((t) => s.d.get(t)!), out: withMag(s.d.get(nf.output)!, fOut, gOut) };
  const op = nf.op;
  if (isLinearWithParams(op)) {
    const own = ruleOf(op).backward({ ...view, node: ownPart(nf) }, A, S);
    const term = s.terms.get(nf.name);
    if (!term) return own;
    const t = constantBackward({ ...view, out: term }, A, S);
    return { ins: own.ins, bias: own.bias.map((b, k) => b + t.bias[k]), mag: own.mag.map((m, k) => m + t.mag[k]) };
  }
  if (isMove(op) || op === 'add' || op === 'sub' || op === 'averagepool' || op === 'globalaveragepool') {
    const node = op === 'pad' ? { ...nf, attrs: { ...(nf as NodeOfOp<'pad'>).attrs, value: 0 } } : nf;
    return ruleOf(op).backward({ ...view, node } as never, A, S);
  }
  if (op === 'relu' || op === 'leakyrelu' || op === 'prelu' || op === 'clip') {
    return linesBackward(view, A, S, leakyLines(nf, view, s.fb.get(nf.inputs[0])!, s.gb.get(s.toG.get(nf.inputs[0])!)!));
  }
  return constantBackward(view, A, S); // max-pool (and any op whose difference has an interval only)
}

/** Sound lower bounds of the S rows A0 over the difference of f's tensor `target` (s holds d up to it). */
export function diffLowerRows(s: DiffState, target: string, A0: Float64Array, S: number): Float64Array {
  const acc = new Map<string, Float64Array>([[target, A0]]);
  const bias = new Float64Array(S);
  const mag = new Float64Array(S);
  const pairs = s.align.pairs;
  for (let i = pairs.findIndex(([nf]) => nf.output === target); i >= 0; i--) {
    const [nf, ng] = pairs[i];
    const A = acc.get(nf.output);
    if (!A) continue;
    acc.delete(nf.output);
    if (isZero(s.d.get(nf.output)!)) continue; // d is exactly 0 there: the rows gain nothing from it
    const r = stepBack(s, nf, ng, A, S);
    for (let k = 0; k < S; k++) {
      bias[k] += r.bias[k];
      mag[k] += r.mag[k];
    }
    r.ins.forEach((B, k) => {
      if (!B) return;
      const t = nf.inputs[k];
      const cur = acc.get(t);
      if (!cur) acc.set(t, Float64Array.from(B));
      else for (let j = 0; j < cur.length; j++) cur[j] += B[j];
    });
  }
  // what reaches the input meets d = 0 there
  return bias.map((b, k) => widenLo(b, mag[k] + Math.abs(b)));
}
