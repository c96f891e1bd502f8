/**
 * VNN-LIB properties: is there an input in a region whose outputs satisfy one of the counterexample conjunctions?
 * Falsify first (samples, then sign-gradient descent on the most violated constraint of each conjunction), then
 * input-splitting branch and bound with sound linear bounds on each constraint (c . y - rhs > 0 on a box rules the
 * conjunction out there). Answers in the VNN-COMP style: sat (with a re-checked counterexample), unsat, unknown.
 * The search is a generator of steps of the split tree (input-split.ts); decideProperty runs them in this thread,
 * decidePropertyOnPool on worker threads.
 */
import { forward, type Network } from '../../model/network.ts';
import { samplePoints } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { VnnProperty } from '../../formats/vnnlib.ts';
import { isCounterexample } from '../../formats/vnnlib.ts';
import { MaxHeap } from '../search/heap.ts';
import { manyInputs } from '../search/split.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { outputLinearLower as crownOutputLower } from '../../bounds/objective.ts';
import type { SessionPool } from '../../pool/pool.ts';
import { BOX_LIMIT, MEMORY_LIMIT, boundsBytes, boxBytes, heldBounds, openCap } from '../search/limits.ts';
import { descend, violation } from '../search/counterexample.ts';
import { decideManyInputs } from './many-inputs.ts';
import type { PropertyOptions, PropertyResult } from './types.ts';
import {
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

export type { PropertyOptions, PropertyResult } from './types.ts';

/** Samples drawn and evaluated at a time by falsification, between looks at the deadline. */
const FALSIFY_CHUNK = 10_000;

/** The deeper falsification round between split strategies: samples and descents, shared among the regions. */
const DEEP_SAMPLES = 100_000;
const DEEP_DESCENTS = 1_000;
const DEEP_MAX_MS = 6_000;


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
  pool: SessionPool,
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
