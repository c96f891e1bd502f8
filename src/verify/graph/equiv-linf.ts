/**
 * max |f - g| <= epsilon on one box, side by side (output k, sign +-): samples first (a sample beyond epsilon
 * refutes), then the bounds of equiv-bounds.ts; the sides they leave open get a projected gradient search for a
 * witness, optimised slopes on the product graph (product and auto methods), then ReLU splitting (`prove`, the
 * branch and bound of bab.ts, given by the caller) per open side. epsilon = 0 asks for the bound itself.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { absDiffAt, bestSample, descendLinear, pointOf, sampleBox, worstSample } from './equiv-sample.ts';
import { alphaSide, linfSides, type EquivMethod, type EquivPair } from './equiv-bounds.ts';
import { proveGraphLinear } from './bab.ts';

/** The ReLU splitting a caller's options give: bab.ts's by default, none when switched off. */
export const proverOf = (o: { prove?: ProveLinear | false }): ProveLinear | undefined => (o.prove === false ? undefined : o.prove ?? proveGraphLinear);

/** proveGraphLinear's shape (bab.ts): proves coeffs . T(x) > rhs over the box. */
export type ProveLinear = (
  g: Graph,
  box: Box,
  goal: { tensor?: string; coeffs: Float64Array; rhs: number },
  opts: { deadline: number; maxNodes?: number; alpha?: boolean; bounds?: TensorBounds },
) => { status: 'proved' | 'falsified' | 'unknown'; x?: Float64Array; nodes: number; reason?: string };

/** What checkGraphLinf and checkGraphClass take. */
export interface GraphEquivOptions {
  timeoutMs: number;
  /** 'diff' needs the same structure (else the product method, with the reason in the verdict); default 'auto' */
  method?: EquivMethod;
  /** samples per box (default 256) */
  samples?: number;
  seed?: number;
  /** projected-descent steps per open side (default 20; 0: none) */
  steps?: number;
  /** ReLU splitting for what the bounds leave open (default bab.ts's proveGraphLinear); false: bounds only */
  prove?: ProveLinear | false;
  /** a work limit per ReLU-splitting search */
  maxNodes?: number;
}

export const inBox = (box: Box, x: Float64Array): boolean => x.length === box.lo.length && x.every((v, i) => v >= box.lo[i] && v <= box.hi[i]);

export interface BoxOptions {
  method: EquivMethod;
  deadline: number;
  samples: number;
  /** PGD steps per open side (0: none) */
  steps: number;
  rng: () => number;
  prove?: ProveLinear;
  maxNodes?: number;
}

export interface BoxLinf {
  status: 'proved' | 'refuted' | 'unknown';
  /** proved max |f - g| on the box (Infinity: nothing proved) */
  bound: number;
  /** the largest |f - g| met at a point, and the point */
  found: number;
  x: Float64Array;
  reason?: string;
  diffRefused?: string;
  /** sides settled by slopes and by ReLU splitting; the latter's nodes */
  alpha: number;
  split: number;
  nodes: number;
}

interface Side {
  k: number;
  sign: 1 | -1;
}

export function linfOnBox(p: EquivPair, box: Box, epsilon: number, o: BoxOptions): BoxLinf {
  const s = sampleBox(p.f, p.g, box, o.samples, o.rng);
  const w = worstSample(s);
  const r: BoxLinf = { status: 'unknown', bound: Infinity, found: w.value, x: pointOf(s, w.index), alpha: 0, split: 0, nodes: 0 };
  const consider = (x: Float64Array): boolean => {
    const v = absDiffAt(p.f, p.g, x);
    if (v > r.found) [r.found, r.x] = [v, x];
    return epsilon > 0 && r.found > epsilon;
  };
  if (consider(r.x)) return { ...r, status: 'refuted' };
  const sb = linfSides(p, box, o.method);
  r.diffRefused = sb.diffRefused;
  const sideBound = (q: Side): number => (q.sign > 0 ? sb.up[q.k] : sb.down[q.k]);
  const setBound = (q: Side, v: number): void => {
    if (q.sign > 0) sb.up[q.k] = Math.min(sb.up[q.k], v);
    else sb.down[q.k] = Math.min(sb.down[q.k], v);
  };
  const all: Side[] = [...sb.up.keys()].flatMap((k) => [{ k, sign: 1 as const }, { k, sign: -1 as const }]);
  // worst first: with a deadline the sides that decide the bound get the time
  const open = (): Side[] => all.filter((q) => (epsilon > 0 ? sideBound(q) > epsilon : sideBound(q) > r.found)).sort((a, b) => sideBound(b) - sideBound(a));
  for (const q of open()) {
    if (o.steps <= 0 || Date.now() > o.deadline) break;
    const c = new Float64Array(sb.up.length);
    c[q.k] = -q.sign;
    if (consider(descendLinear(p.h, box, c, [pointOf(s, bestSample(s, q.k, q.sign))], o.steps))) return { ...r, status: 'refuted' };
  }
  if (o.method !== 'diff' || sb.diffRefused) {
    for (const q of open()) {
      if (Date.now() > o.deadline) break;
      setBound(q, alphaSide(p, box, sb.hb, q.k, q.sign));
      if (sideBound(q) <= epsilon) r.alpha++;
    }
  }
  const left = epsilon > 0 ? splitSides(p, box, epsilon, o, open(), sb.hb, r, setBound) : undefined;
  if (left === 'refuted') return { ...r, status: 'refuted' };
  r.bound = Math.max(0, ...all.map(sideBound));
  if (epsilon === 0) return { ...r, status: Number.isFinite(r.bound) ? 'proved' : 'unknown', reason: Number.isFinite(r.bound) ? undefined : 'no finite bound' };
  if (r.bound <= epsilon) return { ...r, status: 'proved' };
  return { ...r, status: 'unknown', reason: left ?? 'the bounds leave it open' };
}

/**
 * ReLU splitting per open side on the product graph (prove sign * d_k < epsilon, i.e. -sign * d_k > -epsilon), each
 * with an equal share of the time left. Returns 'refuted' (a re-checked witness is in r), or why sides stay open.
 */
function splitSides(p: EquivPair, box: Box, epsilon: number, o: BoxOptions, sides: Side[], hb: TensorBounds, r: BoxLinf, setBound: (q: Side, v: number) => void): 'refuted' | string | undefined {
  if (sides.length === 0) return undefined;
  if (!o.prove) return 'the bounds leave it open (no ReLU splitting given)';
  let reason: string | undefined;
  for (const [i, q] of sides.entries()) {
    const now = Date.now();
    if (now > o.deadline) return 'timeout';
    const c = new Float64Array(hb.get(p.h.output.name)!.lo.length);
    c[q.k] = -q.sign;
    const share = now + (o.deadline - now) / (sides.length - i);
    const res = o.prove(p.h, box, { coeffs: c, rhs: -epsilon }, { deadline: share, alpha: true, bounds: hb, maxNodes: o.maxNodes });
    r.nodes += res.nodes;
    if (res.status === 'proved') {
      setBound(q, epsilon);
      r.split++;
    } else if (res.status === 'falsified' && res.x && inBox(box, res.x)) {
      const v = absDiffAt(p.f, p.g, res.x);
      if (v > r.found) [r.found, r.x] = [v, res.x];
      if (v > epsilon) return 'refuted';
      reason = 'the only witness lies on the tolerance itself';
    } else reason = res.reason ?? 'unknown';
  }
  return reason;
}
