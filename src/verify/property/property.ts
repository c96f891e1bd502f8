/**
 * VNN-LIB properties: is there an input in a region whose outputs satisfy one of the counterexample conjunctions?
 * Falsify first (samples, then sign-gradient descent on the most violated constraint of each conjunction), then
 * input-splitting branch and bound with sound linear bounds on each constraint (c . y - rhs > 0 on a box rules the
 * conjunction out there). Answers in the VNN-COMP style: sat (with a re-checked counterexample), unsat, unknown.
 * The search is a generator of steps of the split tree (input-split.ts); decideProperty runs them in this thread,
 * decidePropertyOnPool on worker threads.
 */
import { forward, type Network } from '../../model/network.ts';
import { samplePoints, type Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { LinearConstraint, VnnProperty } from '../../formats/vnnlib.ts';
import { isCounterexample } from '../../formats/vnnlib.ts';
import { MaxHeap } from '../search/heap.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import { manyInputs } from '../search/split.ts';
import { milpAvailable, milpLinearSign } from '../search/milp.ts';
import { ReluBab } from '../search/relu-bab.ts';
import { alphaCrownBounds } from '../../bounds/alpha.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { outputLinearLower as crownOutputLower } from '../../bounds/objective.ts';
import { WorkerPool } from '../../pool/pool.ts';
import { BOX_LIMIT, MEMORY_LIMIT, boundsBytes, boxBytes, heldBounds, openCap } from '../search/limits.ts';
import { descend, violation } from '../search/counterexample.ts';
import {
  constraintLower,
  DEFAULT_STRATEGIES,
  expandBox,
  openness,
  type ExpandJob,
  type Expansion,
  type OpenBox,
  type SplitContext,
  type SplitSetupJob,
  type SplitStrategy,
} from '../search/input-split.ts';

export { DEFAULT_STRATEGIES, type SplitStrategy } from '../search/input-split.ts';

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
  /**
   * open boxes of the split tree expanded per step (default 1): the most open ones. The tree's boxes and splits do
   * not depend on it (a box's step depends on the box alone; to prove unsat every open box is split anyway), only
   * the order, so what it changes is how soon a counterexample or the time limit comes; decidePropertyOnPool
   * spreads each step's boxes over the workers
   */
  batch?: number;
  /**
   * at most this many open boxes in a split tree (default: SEARCH_MEMORY_BYTES over what one holds, its box and
   * bounds; limits.ts); past it the tree stops, and the answer, when no other tree decides, is unknown with
   * reason 'memory limit'. With many inputs: the ReLU-splitting searches' open nodes (their own default otherwise)
   */
  maxOpen?: number;
  /**
   * a work limit: at most this many boxes bounded by the split trees (shared among the strategies like the time), or
   * ReLU-splitting nodes with many inputs, each search that many; past it: unknown, reason 'box limit', at the same
   * box on any machine
   */
  maxBoxes?: number;
}

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

/** A step of the split tree asked of the driver: these open boxes expanded with this strategy. */
interface StepRequest {
  strategy: SplitStrategy;
  items: OpenBox[];
}

type PropertySteps = Generator<StepRequest, PropertyResult, Expansion[]>;

function splitContext(net: Network, prop: VnnProperty, opts: PropertyOptions): SplitContext {
  return {
    net,
    prop,
    boundsFn: opts.boundsFn,
    outputLinearLower: opts.outputLinearLower,
    alphaSteps: opts.alphaSteps ?? 8,
    ...(opts.split ? { split: opts.split } : {}),
    ...(opts.splitScale ? { splitScale: opts.splitScale } : {}),
  };
}

/** Decides the property in this thread. */
export function decideProperty(net: Network, prop: VnnProperty, opts: PropertyOptions): PropertyResult {
  const ctx = splitContext(net, prop, opts);
  const steps = propertySteps(ctx, opts);
  let s = steps.next();
  while (!s.done) {
    const { strategy, items } = s.value;
    s = steps.next(items.map((it) => expandBox(ctx, strategy, it)));
  }
  return s.value;
}

/**
 * Decides the property with each step's boxes spread over the pool's workers (batch: default 8). The tree is the
 * one decideProperty builds with the same batch, whatever the number of workers: only how fast it grows changes.
 * Bounds are crownBounds and its output objective, in every thread.
 */
export async function decidePropertyOnPool(
  net: Network,
  prop: VnnProperty,
  opts: Omit<PropertyOptions, 'boundsFn' | 'outputLinearLower'>,
  pool: WorkerPool,
): Promise<PropertyResult> {
  const o: PropertyOptions = { ...opts, boundsFn: crownBounds, outputLinearLower: crownOutputLower, batch: opts.batch ?? 8 };
  if (pool.size <= 1) return decideProperty(net, prop, o);
  const ctx = splitContext(net, prop, o);
  const setup: SplitSetupJob = { net, prop, alphaSteps: ctx.alphaSteps, ...(ctx.split ? { split: ctx.split } : {}), ...(ctx.splitScale ? { splitScale: ctx.splitScale } : {}) };
  // the workers make the search's context while this thread falsifies
  const session = pool.session(new URL('../search/input-split.ts', import.meta.url).href, 'splitContextOnWorker', setup);
  try {
    const steps = propertySteps(ctx, o);
    let s = steps.next();
    while (!s.done) {
      const { strategy, items } = s.value;
      s = steps.next(await session.run<ExpandJob, Expansion>('expandOnWorker', items.map((item) => ({ strategy, item }))));
    }
    return s.value;
  } finally {
    await session.close();
  }
}

/**
 * The search as a sequence of steps: falsification, then (few inputs) the split tree, whose steps the driver
 * expands (here or on workers), else ReLU splitting and MILP.
 */
function* propertySteps(ctx: SplitContext, opts: PropertyOptions): PropertySteps {
  const { net, prop } = ctx;
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
  // what one open box holds: its box, its bounds, and per conjunction two indices
  const widestRegion = Math.max(1, ...prop.regions.map((r) => r.unsafe.length));
  const maxOpen = opts.maxOpen ?? openCap(boxBytes(n) + boundsBytes(net) + 16 * widestRegion);
  const stops: string[] = [];
  for (let si = 0; si < strategies.length; si++) {
    const deadline = Date.now() + (t0 + opts.timeoutMs - Date.now()) / (strategies.length - si);
    // the work limit shared as the time is: the boxes left, evenly among the strategies left
    const boxCap = opts.maxBoxes === undefined ? Infinity : boxes + Math.max(0, opts.maxBoxes - boxes) / (strategies.length - si);
    const r = yield* splitSearch(strategies[si], deadline, boxCap);
    if (typeof r !== 'string') return r;
    stops.push(r);
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
  // a limit of memory or work says more than the time: more time alone would not have helped
  if (stops.includes(MEMORY_LIMIT)) return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason: MEMORY_LIMIT };
  if (stops.includes(BOX_LIMIT)) return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason: BOX_LIMIT };
  return timedOut();

  /**
   * One branch and bound over every region; when it stops undecided, why: the deadline passed ('timeout'), more
   * than maxOpen boxes were open (MEMORY_LIMIT) or boxCap boxes were bounded (BOX_LIMIT).
   */
  function* splitSearch(strategy: SplitStrategy, deadline: number, boxCap: number): Generator<StepRequest, PropertyResult | string, Expansion[]> {
    // one tree over all regions, the most open box first wherever it is (with many regions, as the census's
    // finishing tasks have, a hard region no longer hides a counterexample in the next); each open box keeps its
    // bounds: its children start from them (sound on sub-boxes, and most of the work)
    const heap = new MaxHeap<OpenBox>();
    for (const [ri, r] of prop.regions.entries()) {
      boxes++;
      const first = openness(ctx, ri, r.box, opts.regionBounds?.[ri]);
      if (first.v >= 0) heap.push(first.v, { ...first, fb: heldBounds(first.fb) });
      if (Date.now() > deadline) return 'timeout';
      if (heap.size > maxOpen) return MEMORY_LIMIT;
    }
    const batch = Math.max(1, Math.floor(opts.batch ?? 1));
    let nextReport = 0;
    while (heap.size > 0) {
      if (Date.now() > deadline) return 'timeout';
      if (heap.size > maxOpen) return MEMORY_LIMIT;
      if (boxes >= boxCap) return BOX_LIMIT;
      if (boxes >= nextReport) {
        nextReport = boxes + 64;
        report(`input splitting (strategy ${strategies.indexOf(strategy) + 1} of ${strategies.length})`, heap.size);
      }
      const items: OpenBox[] = [];
      while (items.length < batch && heap.size > 0) items.push(heap.pop()!);
      const done = yield { strategy, items };
      // in the order of the batch, so the first counterexample is the same however the steps were run
      for (const e of done) {
        boxes += e.boxes;
        if (e.witness) {
          const hit = found(e.witness);
          if (hit) return hit;
        }
        for (const ch of e.children) heap.push(ch.v, { ...ch, fb: heldBounds(ch.fb) });
      }
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
    const closed = (c: LinearConstraint): boolean => constraintLower(net, r.box, fb, c, opts.outputLinearLower, 2 * alphaSteps) > 0;
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
  // a ReLU-splitting search stopped by its memory or work limit (the MILP may still decide what it left)
  let babLimit: string | undefined;
  if (open.length > 0) {
    const babEnd = t0 + (milpAvailable() ? BAB_SHARE : 1) * opts.timeoutMs;
    const babOpts = { ...(opts.maxOpen !== undefined ? { maxOpen: opts.maxOpen } : {}), ...(opts.maxBoxes !== undefined ? { maxNodes: opts.maxBoxes } : {}) };
    const searches = open.map((o) => ({ o, bab: new ReluBab(net, o.box, o.bounds, o.c.coeffs, -o.c.rhs, babOpts) }));
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
    babLimit = searches.find((s) => s.bab.limit === MEMORY_LIMIT)?.bab.limit ?? searches.find((s) => s.bab.limit)?.bab.limit;
  }
  const boxes = prop.regions.length + babNodes;
  if (open.length === 0 && !undecidable) return { result: 'unsat', boxes, timeMs: Date.now() - t0 };
  if (!milpAvailable()) return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason: babLimit ?? 'bounds too loose and no MILP solver loaded' };
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
      : babLimit ?? 'timeout';
  return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason };
}
