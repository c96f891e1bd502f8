/**
 * The proof of a quantised graph g against its original f on a domain: max |f - g| over the outputs by the graph
 * difference engine (the diff method: both graphs have f's structure, only the weights differ), in exact arithmetic
 * on the stored numbers, plus the bound of g's float32 evaluation (graph-rounding.ts). So a proved E covers a
 * float32 run of the file: |float32 g(x) - f(x)| <= E for every x of the domain (fed as float32), every output.
 * The class claim: g's scores are known within R, so g's winner must lead by 2R (gSlack of the graph class check).
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { checkGraphClass, checkGraphLinf } from '../../verify/graph/equiv.ts';
import { withoutSoftmax } from '../../verify/graph/equiv-class.ts';
import type { AutoEpsilon, QuantProof } from './prove.ts';
import { graphFloat32Rounding } from './graph-rounding.ts';

export interface GraphProveOptions {
  timeoutMs: number;
  /** a work limit per ReLU-splitting search (its answer then does not depend on the machine's pace) */
  maxNodes?: number;
  seed?: number;
}

const linfDiff = (y: Float64Array, z: Float64Array): number => y.reduce((m, v, i) => Math.max(m, Math.abs(v - z[i])), 0);

const opts = (o: GraphProveOptions) => ({ timeoutMs: o.timeoutMs, method: 'diff' as const, seed: o.seed ?? 1, ...(o.maxNodes !== undefined ? { maxNodes: o.maxNodes } : {}) });
// the bound-finding run: no gradient descents (they only raise the largest difference found, and cost most of it)
const boundOnly = { steps: 0, samples: 64 };

/**
 * Proves |float32 g - f| <= epsilon (the exact difference within epsilon - R); epsilon 0: the bound the difference
 * bounds give without ReLU splitting, reported as proved. R: the rounding bound (computed when not given).
 */
export function proveGraphQuantized(f: Graph, g: Graph, domain: Box[], epsilon: number, o: GraphProveOptions, rounding?: number): QuantProof {
  const t0 = Date.now();
  const R = rounding ?? graphFloat32Rounding(g, domain);
  const common = { epsilon, rounding: R, timeMs: 0 };
  if (epsilon > 0 && !(R < epsilon)) return { ...common, status: 'unknown', provedBound: Infinity, foundMax: 0, boxes: 0, reason: `float32 evaluation alone may differ by ${R} on the domain` };
  const r = checkGraphLinf(f, g, domain, epsilon > 0 ? epsilon - R : 0, { ...opts(o), ...(epsilon > 0 ? {} : boundOnly) });
  const v = r.verdict;
  const base = { ...common, foundMax: r.foundMax, boxes: r.boxes, timeMs: Date.now() - t0 };
  if (v.status === 'proved' && (epsilon === 0 || r.provedBound + R <= epsilon)) return { ...base, status: 'proved', provedBound: Number.isFinite(r.provedBound) ? r.provedBound + R : Infinity };
  if (v.status === 'refuted') {
    // re-evaluated: beyond epsilon + R, no float32 evaluation can be within epsilon there
    const d = linfDiff(forwardGraph(f, v.witness), forwardGraph(g, v.witness));
    const beyond = d > epsilon + R;
    return {
      ...base,
      status: beyond ? 'refuted' : 'unknown',
      provedBound: Infinity,
      witness: Array.from(v.witness),
      reason: beyond ? undefined : `|f - g| reaches ${d} at a point, more than epsilon - R, within the float32 rounding bound (${R}) of epsilon`,
    };
  }
  return { ...base, status: 'unknown', provedBound: Infinity, reason: v.status === 'unknown' ? v.reason : `the proved bound is ${r.provedBound + R}` };
}

/**
 * --epsilon auto: the bound-finding run gives a first E (checked as a claim), then `steps` geometric bisections
 * between the largest difference found and it, each a proof with ReLU splitting; all within o.timeoutMs, each
 * bisection step getting an equal share of what is left.
 */
export function autoGraphEpsilon(f: Graph, g: Graph, domain: Box[], o: GraphProveOptions, steps = 4): AutoEpsilon | { failed: QuantProof } {
  const deadline = Date.now() + o.timeoutMs;
  const R = graphFloat32Rounding(g, domain);
  const first = proveGraphQuantized(f, g, domain, 0, o, R);
  const failed = { failed: { ...first, status: 'unknown' as const, reason: first.reason ?? 'no bound proved within the limits' } };
  if (!Number.isFinite(first.provedBound)) return failed;
  const tried: AutoEpsilon['steps'] = [];
  const attempt = (e: number, left = 1): QuantProof => {
    const p = proveGraphQuantized(f, g, domain, e, { ...o, timeoutMs: Math.max(1, (deadline - Date.now()) / left) }, R);
    tried.push({ epsilon: e, status: p.status });
    return p;
  };
  let hi = first.provedBound;
  let best = attempt(hi, steps + 1);
  for (let i = 0; i < 3 && best.status !== 'proved'; i++) best = attempt((hi *= 1.5), steps + 1);
  if (best.status !== 'proved') return failed;
  let lo = Math.max(first.foundMax, best.foundMax, R);
  let lowerTried = false;
  for (let i = 0; i < steps && hi > lo * (1 + 1e-6) && Date.now() < deadline; i++) {
    const mid = lo > 0 ? Math.sqrt(lo * hi) : hi / 2;
    const p = attempt(mid, steps - i);
    if (p.status === 'proved') [hi, best] = [mid, p];
    else [lo, lowerTried] = [mid, true];
  }
  return { epsilon: hi, proof: best, lowerEnd: lo, lowerTried, steps: tried };
}

/**
 * g (evaluated in float32) has f's class wherever f leads by at least `margin`. A final softmax is dropped from both
 * first (as the graph class check does): the class is that of the scores before it, and R is about those scores.
 */
export function proveGraphQuantizedClass(f0: Graph, g0: Graph, domain: Box[], order: 'argmax' | 'argmin', margin: number, o: GraphProveOptions, rounding?: number): QuantProof {
  const t0 = Date.now();
  const [f, g] = [withoutSoftmax(f0), withoutSoftmax(g0)];
  const R = rounding ?? graphFloat32Rounding(g, domain);
  const r = checkGraphClass(f, g, domain, { ...opts(o), method: 'auto', order, margin, gSlack: 2 * R });
  const v = r.verdict;
  const common = { epsilon: 0, rounding: R, provedBound: Infinity, foundMax: 0, boxes: r.boxes, timeMs: Date.now() - t0 };
  if (v.status === 'proved') return { ...common, status: 'proved' };
  // a witness of the exact networks: with rounding, float32 evaluation could still keep the class there
  if (v.status === 'refuted') return { ...common, status: R > 0 ? 'unknown' : 'refuted', witness: Array.from(v.witness), reason: R > 0 ? 'the class changes at a point in exact arithmetic' : undefined };
  return { ...common, status: 'unknown', reason: v.reason };
}
