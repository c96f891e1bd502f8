/**
 * One step of the property search's input-splitting tree, as a function of the box alone: try a few ways of halving
 * it, bound the halves, keep the best cut, and try the box's centre and likely corners as counterexamples. Nothing
 * in a step depends on the rest of the tree, so a batch of steps can run on worker threads and give exactly the tree
 * one thread gives (property.ts drives the tree and keeps the open boxes).
 */
import { forward, type Network } from '../../model/network.ts';
import { splitBox, type Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { isCounterexample, type LinearConstraint, type VnnProperty } from '../../formats/vnnlib.ts';
import { backwardBound, crownBounds } from '../../bounds/backward.ts';
import { outputLinearLower as crownOutputLower } from '../../bounds/objective.ts';
import { alphaLower, alphaLowerOfMax } from '../../bounds/alpha.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import { chooseSplit } from './split.ts';
import { descend } from './counterexample.ts';

/**
 * How a box is split: the `trialDims` inputs smear ranks highest are each tried (both halves bounded) and the best
 * kept, by the worse child's openness ('worst') or the sum of both children's ('sum', which favours a cut that
 * closes one half outright).
 */
export interface SplitStrategy {
  trialDims: number;
  score: 'worst' | 'sum';
  /**
   * 'widest': always halve the input widest relative to `splitScale` (default the region), no trials (trialDims and
   * score unused)
   */
  rule?: 'smear' | 'widest';
}

/**
 * Measured on VNN-COMP ACAS Xu: each solves instances on which the other stalls. 'sum' first: alone with 60 s it
 * decides 183 of the 186 instances in 501 s summed ('worst' alone: 182 in 562 s), among them 1_1 property 6 in 35 s
 * and 5_3 property 2 in 30 s, which 'worst' leaves open; 'worst' decides 4_7 property 1 (10 s), which 'sum' does not.
 */
export const DEFAULT_STRATEGIES: SplitStrategy[] = [
  { trialDims: 3, score: 'sum' },
  { trialDims: 4, score: 'worst' },
];

/** Relative rounding of a sum of a few floating-point terms, generously (n terms err by at most n x 2^-53). */
const SUM_ROUNDING = 1e-14;

/** What every step of one search shares. */
export interface SplitContext {
  net: Network;
  prop: VnnProperty;
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  /** gradient steps on the slopes of each open constraint's bound (0: CROWN's fixed slopes) */
  alphaSteps: number;
  /** 'trial': bound both halves for every input and keep the best, instead of the strategy's rule */
  split?: 'smear' | 'trial';
  /** the box relative to whose widths the 'widest' rule measures (default: the box's region) */
  splitScale?: Box;
}

/**
 * An open box of the tree: its bounds (its children start from them), how open it is (v >= 0: the largest amount
 * by which some conjunction may still hold), and per conjunction still open on it (`open`, indices into its
 * region's `unsafe`) the constraint whose bound came closest to ruling it out (`closest`, indices into that
 * conjunction): smear ranks the inputs by those constraints' linear bounds.
 */
export interface OpenBox {
  ri: number;
  box: Box;
  fb: NetworkBounds;
  v: number;
  open: number[];
  closest: number[];
}

/** A step's outcome: a counterexample (checked by plain evaluation), or the open children; and the boxes bounded. */
export interface Expansion {
  witness: Float64Array | null;
  children: OpenBox[];
  boxes: number;
}

/**
 * A sound lower bound of c . y - rhs over the box: CROWN's (outputLinearLower), and when that does not show the
 * constraint failing, the better of it and a bound with slopes optimised for the constraint (`steps` gradient steps;
 * 0: none).
 */
export function constraintLower(net: Network, box: Box, fb: NetworkBounds, c: LinearConstraint, lower: OutputLinearLower, steps: number): number {
  const lo = lower(net, box, fb, c.coeffs) - c.rhs;
  if (lo > 0 || steps <= 0) return lo;
  return Math.max(lo, alphaLower(net, box, fb, net.layers.length - 1, c.coeffs, -c.rhs, { iterations: steps, target: 0 }));
}

/**
 * A lower bound of max_i (c_i . y - rhs_i) over the box: when it is > 0, some constraint of the conjunction fails
 * everywhere on the box, though no single one may be provably failing (the relaxation of a mixture is tighter than
 * the mixture of the relaxations). First the plain sum's bound (its rounding in floating point, at most a few ulps
 * of each summed magnitude times the largest |y_k| the output bounds allow, subtracted); then, when that does not
 * close the box, the mixture's weights optimised with the slopes.
 */
function combinedLower(ctx: SplitContext, box: Box, fb: NetworkBounds, conj: LinearConstraint[]): number {
  const m = conj[0].coeffs.length;
  const comb = new Float64Array(m);
  const mag = new Float64Array(m);
  let rhs = 0;
  let rmag = 0;
  for (const c of conj) {
    for (let k = 0; k < m; k++) {
      comb[k] += c.coeffs[k];
      mag[k] += Math.abs(c.coeffs[k]);
    }
    rhs += c.rhs;
    rmag += Math.abs(c.rhs);
  }
  const out = fb[fb.length - 1];
  let err = SUM_ROUNDING * rmag;
  for (let k = 0; k < m; k++) err += SUM_ROUNDING * mag[k] * Math.max(Math.abs(out.lo[k]), Math.abs(out.hi[k]));
  // a lower bound of the sum over J constraints, over J, bounds their mean, which is at most their maximum
  const mean = (ctx.outputLinearLower(ctx.net, box, fb, comb) - rhs - err) / conj.length;
  if (mean > 0 || ctx.alphaSteps <= 0) return mean;
  const mix = alphaLowerOfMax(ctx.net, box, fb, ctx.net.layers.length - 1, conj.map((c) => c.coeffs), conj.map((c) => -c.rhs), { iterations: ctx.alphaSteps, target: 0 });
  return Math.max(mean, mix.bound);
}

/** Bounds one box of region ri (from its parent's bounds when given) and says how open it is. */
export function openness(ctx: SplitContext, ri: number, box: Box, parent?: NetworkBounds): OpenBox {
  const { net } = ctx;
  const fb = ctx.boundsFn(net, box, parent);
  let worst = -Infinity;
  const open: number[] = [];
  const closest: number[] = [];
  for (const [ji, conj] of ctx.prop.regions[ri].unsafe.entries()) {
    let blocked = -Infinity;
    let best = 0;
    for (const [ci, c] of conj.entries()) {
      // slopes optimised for the constraint: also sharpens the split choice, which is where most of its gain is
      // (used only to close boxes, it saved little on VNN-COMP ACAS Xu; giving a conjunction's constraints CROWN's
      // bound only, and the optimised slopes to their mixture below, was faster on most instances but left 4_2
      // property 2 open at 300 s, decided in 200 s with them)
      const lo = constraintLower(net, box, fb, c, ctx.outputLinearLower, ctx.alphaSteps);
      if (lo > blocked) {
        blocked = lo;
        best = ci;
      }
      if (blocked > 0) break;
    }
    // no single constraint fails provably: perhaps a mixture of them does; its bound also ranks the box
    if (blocked <= 0 && conj.length > 1) blocked = Math.max(blocked, combinedLower(ctx, box, fb, conj));
    if (blocked <= 0) {
      open.push(ji);
      closest.push(best);
    }
    worst = Math.max(worst, -blocked);
  }
  return { ri, box, fb, v: worst, open, closest };
}

/** x, when plain evaluation shows it violating the property. */
function counterexample(ctx: SplitContext, x: Float64Array): Float64Array | null {
  return isCounterexample(ctx.prop, x, forward(ctx.net, x), 0) ? x : null;
}

/**
 * One step on an open box: its centre and a short descent from it per open conjunction tried as counterexamples;
 * then the inputs smear ranks highest each tried as the cut (both halves bounded, the best kept; each open
 * constraint's corner where its linear lower bound is smallest tried on the way), or with the 'widest' rule the
 * widest input; the halves still open come back.
 */
export function expandBox(ctx: SplitContext, strategy: SplitStrategy, ob: OpenBox): Expansion {
  const { net } = ctx;
  const n = net.inputSize;
  const { ri, box, fb: parent } = ob;
  const region = ctx.prop.regions[ri];
  let boxes = 0;
  const done = (witness: Float64Array | null, children: OpenBox[] = []): Expansion => ({ witness, children, boxes });
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = 0.5 * (box.lo[i] + box.hi[i]);
  if (counterexample(ctx, c)) return done(c);
  for (const ji of ob.open) {
    const w = counterexample(ctx, descend(net, box, region.unsafe[ji], c, 10));
    if (w) return done(w);
  }
  const seen = new Map<Box, OpenBox>();
  const score = (b: Box): number => {
    boxes++;
    const o = openness(ctx, ri, b, parent);
    seen.set(b, o);
    return o.v;
  };
  let dims: number[] = [];
  const widest = strategy.rule === 'widest';
  if (ctx.split !== 'trial' && !widest) {
    // ReluVal's "smear": inputs ranked by |coefficient| x width in the open constraints' linear bounds. On the way,
    // probe each open constraint's corner where its linear lower bound is smallest: counterexamples sit in small
    // pockets, and that corner points at one more often than the box centre does
    const last = net.layers.length - 1;
    const coef = new Float64Array(n);
    const smear = new Float64Array(n);
    for (const [k, ji] of ob.open.entries()) {
      const con = region.unsafe[ji][ob.closest[k]];
      backwardBound(net, box, parent, last, con.coeffs, 0, 'lower', coef);
      const corner = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        smear[i] += Math.abs(coef[i]) * (box.hi[i] - box.lo[i]);
        corner[i] = coef[i] > 0 ? box.lo[i] : box.hi[i];
      }
      if (counterexample(ctx, corner)) return done(corner);
    }
    dims = [...Array(n).keys()].filter((i) => box.hi[i] > box.lo[i] && smear[i] > 0).sort((a, b) => smear[b] - smear[a] || a - b).slice(0, strategy.trialDims);
  }
  let pick: { children: Box[]; values: number[] } | null = null;
  let pickVal = Infinity;
  for (const d of dims) {
    const ch = splitBox(box, d);
    const vs = [score(ch[0]), score(ch[1])];
    const v = strategy.score === 'sum' ? Math.max(vs[0], 0) + Math.max(vs[1], 0) + 1e-3 * (vs[0] + vs[1]) : Math.max(vs[0], vs[1]) + 1e-3 * Math.min(vs[0], vs[1]);
    if (v < pickVal) {
      pickVal = v;
      pick = { children: ch, values: vs };
    }
  }
  const { children, values } = pick ?? chooseSplit(box, ctx.splitScale ?? region.box, score, !widest && n <= 8 ? 'trial' : 'widest');
  return done(null, children.filter((_, i) => values[i] >= 0).map((ch) => seen.get(ch)!));
}

/**
 * Worker-thread side (a session of the pool, property.ts): the search's context made once on each worker from plain
 * data, then every step's boxes expanded with it. Workers bound with crownBounds and its output objective, as the
 * command line does.
 */
export interface SplitSetupJob {
  net: Network;
  prop: VnnProperty;
  alphaSteps: number;
  split?: 'smear' | 'trial';
  splitScale?: Box;
}

export function splitContextOnWorker(job: SplitSetupJob): SplitContext {
  return { ...job, boundsFn: crownBounds, outputLinearLower: crownOutputLower };
}

export interface ExpandJob {
  strategy: SplitStrategy;
  item: OpenBox;
}

export function expandOnWorker(job: ExpandJob, ctx: SplitContext): Expansion {
  return expandBox(ctx, job.strategy, job.item);
}
