/**
 * VNN-LIB properties: is there an input in a region whose outputs satisfy one of the counterexample conjunctions?
 * Falsify first (samples, then sign-gradient descent on the most violated constraint of each conjunction), then
 * input-splitting branch and bound with sound linear bounds on each constraint (c . y - rhs > 0 on a box rules the
 * conjunction out there). Answers in the VNN-COMP style: sat (with a re-checked counterexample), unsat, unknown.
 */
import { forward, forwardTrace, type Network } from '../model/network.ts';
import { samplePoints, splitBox, type Box } from '../model/box.ts';
import { mulberry32 } from '../model/rng.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import type { LinearConstraint, VnnProperty } from '../formats/vnnlib.ts';
import { isCounterexample } from '../formats/vnnlib.ts';
import { MaxHeap } from './heap.ts';
import type { BoundsFn, OutputLinearLower } from './equiv.ts';
import { chooseSplit, manyInputs } from './split.ts';
import { inputGradient } from './search.ts';
import { milpAvailable, milpLinearSign } from './milp.ts';
import { ReluBab } from './relu-bab.ts';
import { backwardBound } from '../bounds/backward.ts';
import { alphaCrownBounds, alphaLower, alphaLowerOfMax } from '../bounds/alpha.ts';

export interface PropertyResult {
  result: 'sat' | 'unsat' | 'unknown';
  counterexample?: { x: number[]; y: number[] };
  boxes: number;
  timeMs: number;
  reason?: string;
}

export interface PropertyOptions {
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  timeoutMs: number;
  /** samples per region before any bounding (default 2,000; 500 with many inputs) */
  samples?: number;
  seed?: number;
  /** how to pick the input to split: 'smear' (default: the top inputs by smear, as the strategies say) or 'trial'
   * (bound both halves for every input, keep the best) */
  split?: 'smear' | 'trial';
  /** the split strategies that take turns (default DEFAULT_STRATEGIES) */
  strategies?: SplitStrategy[];
  /** local descents from the closest samples, per region and conjunction (default 16; 4 with many inputs) */
  descents?: number;
  /** gradient steps on the lower relaxation slopes of each open constraint's bound, per box (default 8; 0: CROWN's
   * fixed slopes). On VNN-COMP ACAS Xu it halves the boxes per second and still decides more, sooner. */
  alphaSteps?: number;
  /** now and then: what the search is doing, boxes bounded so far, boxes open, time left (ms) */
  onProgress?: (phase: string, boxes: number, open: number, leftMs: number) => void;
  /** a deeper falsification round between split strategies (default on) */
  deepFalsify?: boolean;
  /** sound bounds already known over each region's box (children start from them) */
  regionBounds?: NetworkBounds[];
  /** the box relative to whose widths the 'widest' rule measures (regions cut from one domain: the domain) */
  splitScale?: Box;
  /** after falsification, bounds + ReLU splitting + MILP (as with many inputs) instead of input splitting: for
   * questions where the same hyperplanes cross the box twice (two networks side by side), which no input split
   * separates but a phase split settles */
  reluSplitting?: boolean;
}

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

/** Measured on VNN-COMP ACAS Xu: each solves instances on which the other stalls. */
export const DEFAULT_STRATEGIES: SplitStrategy[] = [
  { trialDims: 4, score: 'worst' },
  { trialDims: 3, score: 'sum' },
];

/** Samples drawn and evaluated at a time by falsification, between looks at the deadline. */
const FALSIFY_CHUNK = 10_000;

/** The deeper falsification round between split strategies: samples and descents, shared among the regions. */
const DEEP_SAMPLES = 100_000;
const DEEP_DESCENTS = 1_000;
const DEEP_MAX_MS = 6_000;

/**
 * Many inputs: the share of the time for ReLU splitting before MILP, and the slice each open constraint's search
 * runs before the next one's turn.
 */
const BAB_SHARE = 0.9;
const BAB_SLICE_MS = 250;

/** Relative rounding of a sum of a few floating-point terms, generously (n terms err by at most n x 2^-53). */
const SUM_ROUNDING = 1e-14;

/** How far y is from satisfying the conjunction (<= 0: satisfied). */
function violation(conj: LinearConstraint[], y: ArrayLike<number>): number {
  return mostViolated(conj, y).v;
}

/** The constraint of the conjunction furthest from holding at y, and by how much (c . y - rhs). */
function mostViolated(conj: LinearConstraint[], y: ArrayLike<number>): { c: LinearConstraint; v: number } {
  let worst = conj[0];
  let v = -Infinity;
  for (const c of conj) {
    let s = -c.rhs;
    for (let k = 0; k < c.coeffs.length; k++) s += c.coeffs[k] * y[k];
    if (s > v) {
      v = s;
      worst = c;
    }
  }
  return { c: worst, v };
}

/**
 * A sound lower bound of c . y - rhs over the box: CROWN's (outputLinearLower), and when that does not show the
 * constraint failing, the better of it and a bound with slopes optimised for the constraint (`steps` gradient steps;
 * 0: none).
 */
function constraintLower(net: Network, box: Box, fb: NetworkBounds, c: LinearConstraint, opts: PropertyOptions, steps: number): number {
  const lo = opts.outputLinearLower(net, box, fb, c.coeffs) - c.rhs;
  if (lo > 0 || steps <= 0) return lo;
  return Math.max(lo, alphaLower(net, box, fb, net.layers.length - 1, c.coeffs, -c.rhs, { iterations: steps, target: 0 }));
}

/**
 * Sign-gradient descent on the most violated constraint, projected on the box. One forward pass per step: the
 * gradient is taken from the accepted point's trace and kept while steps are rejected (the point has not moved).
 */
function descend(net: Network, box: Box, conj: LinearConstraint[], x0: Float64Array, steps = 30): Float64Array {
  const n = net.inputSize;
  const last = net.layers.length - 1;
  let x = x0.slice();
  let tr = forwardTrace(net, x, 1);
  let v = violation(conj, tr.post[last]);
  let g: Float64Array | null = null;
  let step = 0.25;
  for (let it = 0; it < steps && v > 0; it++) {
    if (!g) g = inputGradient(net, x, last, mostViolated(conj, tr.post[last]).c.coeffs, tr);
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) z[i] = Math.min(box.hi[i], Math.max(box.lo[i], x[i] - step * (box.hi[i] - box.lo[i]) * Math.sign(g[i])));
    const tz = forwardTrace(net, z, 1);
    const vz = violation(conj, tz.post[last]);
    if (vz < v) {
      x = z;
      tr = tz;
      v = vz;
      g = null;
    } else {
      step *= 0.5;
      if (step < 1e-7) break;
    }
  }
  return x;
}

export function decideProperty(net: Network, prop: VnnProperty, opts: PropertyOptions): PropertyResult {
  const t0 = Date.now();
  const rng = mulberry32(opts.seed ?? 3);
  const n = net.inputSize;
  let boxes = 0;
  const found = (x: Float64Array): PropertyResult | null => {
    const y = forward(net, x);
    // a witness is only trusted after plain evaluation says it violates the property
    if (!isCounterexample(prop, x, y, 0)) return null;
    return { result: 'sat', counterexample: { x: Array.from(x), y: Array.from(y) }, boxes, timeMs: Date.now() - t0 };
  };
  const timedOut = (): PropertyResult => ({ result: 'unknown', boxes, timeMs: Date.now() - t0, reason: 'timeout' });
  /**
   * Samples per region, then local descent from the ones closest to violating each conjunction (counterexamples
   * often sit in small pockets that one start misses). Returns a re-checked counterexample, or null (also when the
   * deadline passes).
   */
  const falsify = (count: number, descents: number, deadline: number): PropertyResult | null => {
    for (const r of prop.regions) {
      if (Date.now() > deadline) return null;
      // samples in chunks, the deadline checked between them (the deeper round's 100,000 took 4 s past a 1 s
      // limit), keeping each conjunction's closest samples: the same ones, in the same order, as one big batch
      const keep = Math.max(1, descents);
      const closest = r.unsafe.map(() => [] as Array<{ v: number; x: Float64Array }>);
      for (let done = 0; done < count; done += FALSIFY_CHUNK) {
        if (done > 0 && Date.now() > deadline) return null;
        const c = Math.min(FALSIFY_CHUNK, count - done);
        const xs = samplePoints(r.box, c, rng);
        const ys = forward(net, xs, c);
        const m = ys.length / c;
        r.unsafe.forEach((conj, ci) => {
          const best = closest[ci];
          for (let s = 0; s < c; s++) {
            const v = violation(conj, ys.subarray(s * m, (s + 1) * m));
            if (best.length === keep && !(v < best[keep - 1].v)) continue;
            // after every equal one already kept: ties stay in sampling order
            let at = best.length;
            while (at > 0 && best[at - 1].v > v) at--;
            best.splice(at, 0, { v, x: xs.slice(s * n, (s + 1) * n) });
            if (best.length > keep) best.pop();
          }
        });
      }
      for (const [ci, conj] of r.unsafe.entries()) {
        const order = closest[ci];
        const hit = found(order[0].x);
        if (hit) return hit;
        for (const { x } of order.slice(0, descents)) {
          if (Date.now() > deadline) return null;
          const h = found(descend(net, r.box, conj, x, 60));
          if (h) return h;
        }
      }
    }
    return null;
  };
  const report = (phase: string, open: number): void => opts.onProgress?.(phase, boxes, open, t0 + opts.timeoutMs - Date.now());
  // 1. falsification
  report('falsification', 0);
  // with many inputs each sample and descent step costs hundreds of times more, and ReLU splitting tries its nodes'
  // corners afterwards: a lighter round (MNIST 256x2 prop_2_0.03, unsat: 1.7 s instead of 5.1 s; the sat instances
  // are still found in 0.4-0.5 s)
  const many = manyInputs(n);
  const first = falsify(opts.samples ?? (many ? 500 : 2000), opts.descents ?? (many ? 4 : 16), t0 + opts.timeoutMs);
  if (first) return first;
  if (Date.now() - t0 > opts.timeoutMs) return timedOut();
  // 2. many inputs (input splitting cannot help): CROWN on the region, then ReLU splitting and an exact MILP per
  // open conjunction
  if (many || opts.reluSplitting) {
    report('bounds, ReLU splitting and MILP', prop.regions.length);
    return decideManyInputs(net, prop, opts, t0, found);
  }
  // 3. branch and bound per region: a box is closed when every conjunction has a constraint with c.y - rhs > 0.
  // Which split is best is erratic (one choice closes a region in 170 boxes, another is open after 23,000), so two
  // split strategies take turns: each gets an equal share of the time left, a verdict from either is final.
  const strategies = opts.strategies ?? DEFAULT_STRATEGIES;
  const last = net.layers.length - 1;
  const alphaSteps = opts.alphaSteps ?? 8;
  for (let si = 0; si < strategies.length; si++) {
    const deadline = Date.now() + (t0 + opts.timeoutMs - Date.now()) / (strategies.length - si);
    const r = splitSearch(strategies[si], deadline);
    if (r) return r;
    // not closed in its share: perhaps not closable. A deeper falsification round (about 100,000 samples and 1,000
    // descents over all regions, at most 30% of the time left or 6 s) before the next strategy: on VNN-COMP
    // ACAS Xu it finds 5_3 property 2's counterexample in 2.5-4 s (six seeds; 30,000 samples and 300 descents: one
    // seed of six), which 28,000 boxes of splitting missed
    if (si + 1 < strategies.length && opts.deepFalsify !== false) {
      const per = Math.max(1, prop.regions.length);
      report('falsification (deeper round)', 0);
      const hit = falsify(Math.ceil(DEEP_SAMPLES / per), Math.ceil(DEEP_DESCENTS / per), Date.now() + Math.min(DEEP_MAX_MS, 0.3 * (t0 + opts.timeoutMs - Date.now())));
      if (hit) return hit;
    }
  }
  return timedOut();

  /**
   * A lower bound of max_i (c_i . y - rhs_i) over the box: when it is > 0, some constraint of the conjunction fails
   * everywhere on the box, though no single one may be provably failing (the relaxation of a mixture is tighter than
   * the mixture of the relaxations). First the plain sum's bound (its rounding in floating point, at most a few ulps
   * of each summed magnitude times the largest |y_k| the output bounds allow, subtracted); then, when that does not
   * close the box, the mixture's weights optimised with the slopes.
   */
  function combinedLower(box: Box, fb: NetworkBounds, conj: LinearConstraint[]): number {
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
    const mean = (opts.outputLinearLower(net, box, fb, comb) - rhs - err) / conj.length;
    if (mean > 0 || alphaSteps <= 0) return mean;
    const mix = alphaLowerOfMax(net, box, fb, last, conj.map((c) => c.coeffs), conj.map((c) => -c.rhs), { iterations: alphaSteps, target: 0 });
    return Math.max(mean, mix.bound);
  }

  /** One branch and bound over every region; null when the deadline passes first. */
  function splitSearch(strategy: SplitStrategy, deadline: number): PropertyResult | null {
    const openness = (ri: number, box: Box, parent?: NetworkBounds): { v: number; fb: NetworkBounds; closest: LinearConstraint[]; open: LinearConstraint[][] } => {
      boxes++;
      const fb = opts.boundsFn(net, box, parent);
      let worst = -Infinity;
      const closest: LinearConstraint[] = [];
      const open: LinearConstraint[][] = [];
      for (const conj of prop.regions[ri].unsafe) {
        let blocked = -Infinity;
        let best = conj[0];
        for (const c of conj) {
          // slopes optimised for the constraint: also sharpens the split choice, which is where most of its gain is
          // (used only to close boxes, it saved little on VNN-COMP ACAS Xu; giving a conjunction's constraints
          // CROWN's bound only, and the optimised slopes to their mixture below, was faster on most instances but
          // left 4_2 property 2 open at 300 s, decided in 200 s with them)
          const lo = constraintLower(net, box, fb, c, opts, alphaSteps);
          if (lo > blocked) {
            blocked = lo;
            best = c;
          }
          if (blocked > 0) break;
        }
        // no single constraint fails provably: perhaps a mixture of them does; its bound also ranks the box
        if (blocked <= 0 && conj.length > 1) blocked = Math.max(blocked, combinedLower(box, fb, conj));
        if (blocked <= 0) {
          closest.push(best);
          open.push(conj);
        }
        worst = Math.max(worst, -blocked);
      }
      return { v: worst, fb, closest, open };
    };

    const coef = new Float64Array(n);
    // ReluVal's "smear": inputs ranked by |coefficient| x width in the open constraints' linear bounds. On the way,
    // probe each open constraint's corner where its linear lower bound is smallest: counterexamples sit in small
    // pockets, and that corner points at one more often than the box centre does
    const smearDims = (box: Box, fb: NetworkBounds, closest: LinearConstraint[]): { dims: number[]; hit: PropertyResult | null } => {
      const score = new Float64Array(n);
      for (const c of closest) {
        backwardBound(net, box, fb, last, c.coeffs, 0, 'lower', coef);
        const corner = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          score[i] += Math.abs(coef[i]) * (box.hi[i] - box.lo[i]);
          corner[i] = coef[i] > 0 ? box.lo[i] : box.hi[i];
        }
        const hit = found(corner);
        if (hit) return { dims: [], hit };
      }
      const dims = [...Array(n).keys()].filter((i) => box.hi[i] > box.lo[i] && score[i] > 0).sort((a, b) => score[b] - score[a] || a - b);
      return { dims, hit: null };
    };
    // one tree over all regions, the most open box first wherever it is (with many regions, as the census's
    // finishing tasks have, a hard region no longer hides a counterexample in the next); each open box keeps its
    // bounds: its children start from them (sound on sub-boxes, and most of the work)
    type Open = { ri: number; box: Box; fb: NetworkBounds; closest: LinearConstraint[]; open: LinearConstraint[][] };
    const heap = new MaxHeap<Open>();
    for (const [ri, r] of prop.regions.entries()) {
      const first = openness(ri, r.box, opts.regionBounds?.[ri]);
      if (first.v >= 0) heap.push(first.v, { ri, box: r.box, ...first });
      if (Date.now() > deadline) return null;
    }
    let nextReport = 0;
    while (heap.size > 0) {
      if (Date.now() > deadline) return null;
      if (boxes >= nextReport) {
        nextReport = boxes + 64;
        report(`input splitting (strategy ${strategies.indexOf(strategy) + 1} of ${strategies.length})`, heap.size);
      }
      const { ri, box, fb: parent, closest, open } = heap.pop()!;
      const r = prop.regions[ri];
      const c = new Float64Array(n);
      for (let i = 0; i < n; i++) c[i] = 0.5 * (box.lo[i] + box.hi[i]);
      const hit = found(c);
      if (hit) return hit;
      // a short descent from the box's centre for each conjunction still open on it
      for (const conj of open) {
        const h = found(descend(net, box, conj, c, 10));
        if (h) return h;
      }
      const seen = new Map<Box, Open>();
      const score = (b: Box): number => {
        const o = openness(ri, b, parent);
        seen.set(b, { ri, box: b, ...o });
        return o.v;
      };
      // the inputs smear ranks highest, each tried (both halves bounded), the best kept (smear alone stalls); or,
      // with the 'widest' rule, no trials
      let dims: number[] = [];
      const widest = strategy.rule === 'widest';
      if (opts.split !== 'trial' && !widest) {
        const sm = smearDims(box, parent, closest);
        if (sm.hit) return sm.hit;
        dims = sm.dims.slice(0, strategy.trialDims);
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
      const { children, values } = pick ?? chooseSplit(box, opts.splitScale ?? r.box, score, !widest && box.lo.length <= 8 ? 'trial' : 'widest');
      children.forEach((ch, i) => {
        if (values[i] >= 0) heap.push(values[i], seen.get(ch)!);
      });
    }
    return { result: 'unsat', boxes, timeMs: Date.now() - t0 };
  }
}

/**
 * For many inputs: a conjunction is ruled out on a region when the CROWN bound of one of its constraints already
 * does it; else (single-constraint conjunctions) by branch and bound on ReLU phases, one search per open
 * constraint, taking turns, for most of the time; what is left goes to an exact MILP: max over the region of
 * rhs - c . y < 0 proves it, and a solver point where it is >= 0 is a counterexample once plain evaluation confirms
 * it.
 */
function decideManyInputs(
  net: Network,
  prop: VnnProperty,
  opts: PropertyOptions,
  t0: number,
  found: (x: Float64Array) => PropertyResult | null,
): PropertyResult {
  const last = net.layers.length - 1;
  let open: Array<{ box: Box; bounds: NetworkBounds; c: LinearConstraint }> = [];
  let undecidable = false;
  const alphaSteps = opts.alphaSteps ?? 8;
  for (const r of prop.regions) {
    let fb = opts.boundsFn(net, r.box);
    const closed = (c: LinearConstraint): boolean => constraintLower(net, r.box, fb, c, opts, 2 * alphaSteps) > 0;
    let openConj = r.unsafe.filter((conj) => !conj.some(closed));
    // slopes optimised per neuron tighten every layer (on MNIST 256x2 prop_0_0.03: 4 open constraints -> 1, in
    // 0.2 s), and every node of the branch and bound and the MILP's big-M constants inherit them; a quarter of the
    // time at most. A conjunction already ruled out stays ruled out, so only the open ones are bounded again.
    if (alphaSteps > 0 && openConj.length > 0) {
      fb = alphaCrownBounds(net, r.box, fb, alphaSteps, t0 + 0.25 * opts.timeoutMs);
      openConj = openConj.filter((conj) => !conj.some(closed));
    }
    for (const conj of openConj) {
      if (conj.length === 1) open.push({ box: r.box, bounds: fb, c: conj[0] });
      else undecidable = true;
    }
  }
  // ReLU splitting: every open constraint's search in turn, a slice each, until all are decided or their share of
  // the time (all of it without a MILP solver) is used
  let babNodes = 0;
  if (open.length > 0) {
    const babEnd = t0 + (milpAvailable() ? BAB_SHARE : 1) * opts.timeoutMs;
    const searches = open.map((o) => ({ o, bab: new ReluBab(net, o.box, o.bounds, o.c.coeffs, -o.c.rhs) }));
    let pending = searches;
    // left to the MILP: searches that can make no more progress, and witnesses of c . y <= rhs that plain
    // evaluation does not confirm as counterexamples (the value sits exactly on the threshold)
    const toMilp: typeof pending = [];
    while (pending.length > 0 && Date.now() < babEnd) {
      const next: typeof pending = [];
      for (const s of pending) {
        const v = s.bab.run(Math.min(babEnd, Date.now() + BAB_SLICE_MS));
        if (v === 'refuted' && s.bab.witness) {
          const hit = found(s.bab.witness);
          // boxes: the regions and the nodes bounded, as for a verdict of unsat
          if (hit) return { ...hit, boxes: prop.regions.length + searches.reduce((t, q) => t + q.bab.nodes, 0) };
          toMilp.push(s);
        } else if (v === 'unknown') (s.bab.exhausted ? toMilp : next).push(s);
        if (Date.now() >= babEnd) {
          next.push(...pending.slice(pending.indexOf(s) + 1));
          break;
        }
      }
      pending = next;
    }
    babNodes = searches.reduce((t, s) => t + s.bab.nodes, 0);
    open = [...pending, ...toMilp].map((s) => s.o);
  }
  const boxes = prop.regions.length + babNodes;
  if (open.length === 0 && !undecidable) return { result: 'unsat', boxes, timeMs: Date.now() - t0 };
  if (!milpAvailable()) return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason: 'bounds too loose and no MILP solver loaded' };
  // two rounds: every query with a share of half the time (most are easy), then the ones left with all the rest
  let pending = open;
  let stuck = false;
  for (let round = 0; round < 2 && pending.length > 0; round++) {
    const unresolved: typeof open = [];
    const roundEnd = round === 0 ? t0 + 0.5 * opts.timeoutMs + 0.5 * (Date.now() - t0) : t0 + opts.timeoutMs;
    for (let i = 0; i < pending.length; i++) {
      const left = roundEnd - Date.now();
      if (left <= 0) {
        unresolved.push(...pending.slice(i));
        break;
      }
      const { box, bounds, c } = pending[i];
      const neg = Float64Array.from(c.coeffs, (v) => -v);
      const limit = left / (pending.length - i);
      const r = milpLinearSign(net, box, bounds, last, neg, c.rhs, limit);
      if (r.status === 'refuted' && r.witness) {
        const hit = found(r.witness);
        if (hit) return hit;
      }
      // the solver's point was not a counterexample in plain evaluation (the optimum is within its tolerance of
      // the threshold): a descent from it may still cross
      if (r.near) {
        const hit = found(descend(net, box, [c], r.near, 200));
        if (hit) return hit;
      }
      // only a query stopped by its time limit may do better with more; one that ended early would end the same way
      if (r.status !== 'proved' && r.timeMs >= 0.9 * limit) unresolved.push(pending[i]);
      else if (r.status !== 'proved') stuck = true;
    }
    pending = unresolved;
  }
  if (!undecidable && !stuck && pending.length === 0) return { result: 'unsat', boxes, timeMs: Date.now() - t0 };
  const reason = undecidable
    ? 'multi-constraint conjunction with many inputs'
    : stuck
      ? 'an exact MILP ended early without a verdict (as when its optimum lies within the solver tolerance of the threshold)'
      : 'timeout';
  return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason };
}
