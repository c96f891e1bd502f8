/**
 * Maximise (or minimise) a linear function c . z_k + d of one layer's pre-activations (for the last layer: the
 * outputs) over a union of boxes, to a stated precision. The answer encloses the true optimum: `value` is the
 * objective at a witness input (plain forward evaluation: a maximum is at least that), `bound` a sound bound on
 * the other side (every box of a cover bounded by back-substitution, optimised slopes where that matters, widened
 * outward). `proved` means the gap |bound - value| is within the precision asked; on a timeout the enclosure so far
 * comes back `unknown`.
 *
 * Search: samples and walks over linear regions for the witness; best-first input splitting for the bound (the
 * box with the highest bound is split; two trees, one halving the input widest relative to the domain and one
 * trying every input, take turns). Boxes whose bound is within the precision of the best value found are
 * closed; their bounds still count. With many inputs (more than 8), ReLU splitting (relu-bab.ts) instead of input
 * splitting. The search is a generator of steps (a few boxes to split); maximizeLinear splits them in this thread,
 * maximizeLinearOnPool on worker threads.
 */
import { forwardTrace, makeLayer, type Network } from '../../model/network.ts';
import { boxCenter, samplePoints, splitBox, type Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { backwardBound, crownBounds } from '../../bounds/backward.ts';
import { alphaCrownBounds, alphaLower } from '../../bounds/alpha.ts';
import { termsVanish, widenHi } from '../../bounds/round.ts';
import type { BoundsFn } from '../bounds-fn.ts';
import { MaxHeap } from '../search/heap.ts';
import { maximizeByRegions } from '../search/search.ts';
import { ReluBab } from '../search/relu-bab.ts';
import { manyInputs, widestInput } from '../search/split.ts';
import type { SessionPool } from '../../pool/pool.ts';
import { boundsBytes, boxBytes, heldBounds, openCap } from '../search/limits.ts';

export interface MaximizeOptions {
  timeoutMs: number;
  /** stop once the gap |bound - value| is at most max(precision, relativePrecision * |value|) (defaults 1e-3 and
   * 1e-3: an output in the hundreds is wanted to three digits, not to a thousandth) */
  precision?: number;
  relativePrecision?: number;
  /** bounds of every layer over a box (default CROWN) */
  boundsFn?: BoundsFn;
  /**
   * Decide "is the maximum at most threshold?" instead: stop as soon as a witness's value is above it or the bound
   * is at most it (then `proved` means settled either way; the precision is not used)
   */
  threshold?: number;
  /** slope optimisation steps for a box whose bound is not yet within the precision (default 8; 0: none) */
  slopeSteps?: number;
  /** at most this many open boxes per tree (each keeps its layers' bounds); past it the answer is unknown, reason
   * 'memory limit' (default: SEARCH_MEMORY_BYTES over what a box holds, limits.ts, shared by the trees; with many
   * inputs the ReLU-splitting nodes, their own default otherwise) */
  maxOpen?: number;
  /** a work limit: at most this many boxes bounded (ReLU-splitting nodes with many inputs), then unknown with
   * reason 'box limit', at the same box on any machine (default none) */
  maxBoxes?: number;
  /** samples per domain box for the first witness (default 1,000; 200 with more than 8 inputs) */
  samples?: number;
  seed?: number;
  /** called now and then with the witness's value and the bound so far, the boxes bounded and the open ones */
  onProgress?: (value: number, bound: number, boxes: number, open: number) => void;
  /**
   * open boxes split per step of a tree (default 1), the most open ones: each box's split depends on the box and
   * on the value to beat when the step starts, so the trees do not depend on how a step's boxes are run (here or on
   * the workers of maximizeLinearOnPool); more boxes per step only change when the value to beat is raised
   */
  batch?: number;
}

/** An enclosure of the optimum: `value` at a witness input (plain evaluation) and a sound `bound` on the other side. */
export interface MaximizeResult {
  /** proved: |bound - value| is within the precision asked (with a threshold: the question is settled) */
  status: 'proved' | 'unknown';
  /** the objective at `witness`, by plain evaluation (a maximum is at least this, a minimum at most) */
  value: number;
  witness: Float64Array;
  /** sound: the objective is at most (maximising) or at least (minimising) this everywhere on the domain */
  bound: number;
  boxes: number;
  timeMs: number;
  /** timeout; memory limit (too many open boxes or nodes); box limit (the work limit maxBoxes); incomplete (ReLU
   * splitting has nothing left to split but could not close some fully split nodes) */
  reason?: 'timeout' | 'memory limit' | 'box limit' | 'incomplete';
}

interface Node {
  region: number;
  box: Box;
  upper: number;
  fb: NetworkBounds;
  /** the objective at the box's centre (plain evaluation), when the split that made the box computed it */
  centreValue?: number;
}

/**
 * The witness comes from walks over linear regions (an LP on each, search.ts; plain ascent without the solver):
 * from the best samples first (at most START_SHARE of the time), then from one popped box in ASCENT_EVERY, each at
 * most WALK_MS. Against 40 steps of sign-gradient ascent: ACAS Xu 2_7, output 0 over property 1's box, 0.0545
 * instead of 0.0420; the default network's y1, 1.1984 instead of 1.1975.
 */
const ASCENT_EVERY = 32;
const START_ASCENTS = 8;
const START_SHARE = 0.05;
const WALK_MS = 50;
/** The two split rules' trees take turns in slices of this length. */
const SLICE_MS = 200;

type SplitRule = 'trial' | 'widest';

/** What every split of one search shares: the network up to layer k, the objective c . z_k + d, the domain. */
interface TreeContext {
  below: Network;
  k: number;
  c: Float64Array;
  d: number;
  /** slope optimisation steps for a box not yet settled */
  steps: number;
  domain: Box[];
  boundsFn: BoundsFn;
  /** what settles a box: the threshold, else the best value found plus the precision */
  threshold?: number;
  absPrec: number;
  relPrec: number;
}

/** The bound that settles a box, given the best value found (maximizeSteps' closeAt). */
function closeAtFor(t: TreeContext, best: number): number {
  return t.threshold ?? best + Math.max(t.absPrec, t.relPrec * Math.abs(best));
}

/** c . z_k + d at one input (plain evaluation). */
function objectiveAt(t: TreeContext, x: Float64Array): number {
  const pre = forwardTrace(t.below, x, 1).pre[t.k];
  let v = t.d;
  for (let i = 0; i < t.c.length; i++) v += t.c[i] * pre[i];
  return v;
}

/** A step asked of the driver: these open boxes split by this rule, with this value to beat. */
interface TreeStep {
  ctx: TreeContext;
  rule: SplitRule;
  /** the best value found when the step starts */
  best: number;
  items: Node[];
  /** witness walks asked for (from a popped box's centre, over its domain box, until a time): the driver runs them
   * in this thread, beside the workers' splits */
  walks: Array<{ region: number; from: Float64Array; until: number }>;
}

/** A step's outcome: the splits, in the order of the step's boxes, and the walks' end points. */
interface StepDone {
  splits: NodeSplit[];
  walked: Float64Array[];
}

/** The witness walks of a step (time-limited, so a witness may depend on the machine's pace; the trees do not). */
function runWalks(t: TreeContext, walks: TreeStep['walks']): Float64Array[] {
  return walks.map((w) => maximizeByRegions(t.below, t.domain[w.region], t.k, t.c, [w.from], Math.min(w.until, Date.now() + WALK_MS)).x);
}

/** A box's split: its two halves with their bounds (null: the box is a single point), and the boxes bounded. */
interface NodeSplit {
  children: Node[] | null;
  boxes: number;
}

/**
 * Sound upper bound of c . z_k + d over the box: the best of the layer's interval, the back-substitution and, when
 * those do not reach closeAt, optimised slopes.
 */
function upperBound(t: TreeContext, box: Box, fb: NetworkBounds, closeAt: number): number {
  const { below, k, c, d } = t;
  const L = fb[k];
  let iv = d;
  let mag = Math.abs(d);
  for (let i = 0; i < c.length; i++) {
    if (c[i] === 0) continue;
    iv += c[i] > 0 ? c[i] * L.hi[i] : c[i] * L.lo[i];
    mag += Math.abs(c[i]) * Math.max(Math.abs(L.lo[i]), Math.abs(L.hi[i]));
  }
  // the layer's bounds exactly 0 where c needs them (a pre-activation identically 0): the sum is exactly d
  const exact = mag === 0 && termsVanish(d, c, 0, c.length, L.lo, L.hi);
  let u = Math.min(exact ? iv : widenHi(iv, mag), backwardBound(below, box, fb, k, c, d, 'upper').hi);
  if (k > 0 && t.steps > 0 && u > closeAt) {
    u = Math.min(u, -alphaLower(below, box, fb, k, c.map((v) => -v), -d, { iterations: t.steps, target: -closeAt }));
  }
  return u;
}

/**
 * One box halved: at the input widest relative to its domain box ('widest'), or at the input whose worse half
 * bounds lowest by back-substitution, every input tried ('trial'). Each half's centre counts as a value found
 * before that half is bounded (as the tree will consider it), so what settles it is known sooner. Depends on the box
 * and the best value so far alone.
 */
export function splitNode(t: TreeContext, rule: SplitRule, node: Node, bestSoFar: number): NodeSplit {
  const { below, k, c, d } = t;
  let boxes = 0;
  let halves: Array<{ box: Box; fb: NetworkBounds }> | null = null;
  if (rule === 'widest') {
    const dim = widestInput(node.box, t.domain[node.region]);
    if (node.box.hi[dim] > node.box.lo[dim]) halves = splitBox(node.box, dim).map((box) => ({ box, fb: t.boundsFn(below, box, node.fb) }));
  } else {
    let pickV = Infinity;
    for (let i = 0; i < node.box.lo.length; i++) {
      if (!(node.box.hi[i] > node.box.lo[i])) continue;
      const ch = splitBox(node.box, i).map((box) => ({ box, fb: t.boundsFn(below, box, node.fb) }));
      boxes += 2;
      const [u0, u1] = ch.map((x) => backwardBound(below, x.box, x.fb, k, c, d, 'upper').hi);
      const v = Math.max(u0, u1) + 1e-3 * Math.min(u0, u1);
      if (v < pickV || !halves) {
        pickV = v;
        halves = ch;
      }
    }
  }
  if (!halves) return { children: null, boxes };
  let best = bestSoFar;
  const children = halves.map((h) => {
    const centreValue = objectiveAt(t, boxCenter(h.box));
    best = Math.max(best, centreValue);
    return { region: node.region, box: h.box, fb: h.fb, upper: upperBound(t, h.box, h.fb, closeAtFor(t, best)), centreValue };
  });
  return { children, boxes: boxes + children.length };
}

/**
 * Maximum of c . z_k + d over the union of the domain's boxes, where z_k is layer k's pre-activation vector
 * (c has layer k's width).
 */
export function maximizeLinear(net: Network, domain: Box[], k: number, c: Float64Array, d: number, opts: MaximizeOptions): MaximizeResult {
  const search = maximizeSteps(net, domain, k, c, d, opts);
  let s = search.next();
  while (!s.done) {
    const { ctx, rule, best, items, walks } = s.value;
    const walked = runWalks(ctx, walks);
    s = search.next({ splits: items.map((node) => splitNode(ctx, rule, node, best)), walked });
  }
  return s.value;
}

/**
 * maximizeLinear with each step's boxes (batch: default 8) split on the pool's workers: the trees do not depend on
 * the number of workers (splitNode depends on its box and the value to beat alone), only how fast they grow.
 * Bounds are crownBounds in every thread.
 */
export async function maximizeLinearOnPool(
  net: Network,
  domain: Box[],
  k: number,
  c: Float64Array,
  d: number,
  opts: Omit<MaximizeOptions, 'boundsFn'>,
  pool: SessionPool,
): Promise<MaximizeResult> {
  const o: MaximizeOptions = { ...opts, boundsFn: crownBounds, batch: opts.batch ?? 8 };
  if (pool.size <= 1) return maximizeLinear(net, domain, k, c, d, o);
  const search = maximizeSteps(net, domain, k, c, d, o);
  let s = search.next();
  if (s.done) return s.value;
  // every step of this search shares one context: made once on each worker
  const { boundsFn: _here, ...plain } = s.value.ctx;
  const session = pool.session(import.meta.url, 'treeContextOnWorker', plain);
  try {
    while (!s.done) {
      const { ctx, rule, best, items, walks } = s.value;
      const splits = session.run<SplitJob, NodeSplit>('splitOnWorker', items.map((node) => ({ rule, best, node })));
      // the walks here while the workers split
      const walked = runWalks(ctx, walks);
      s = search.next({ splits: await splits, walked });
    }
    return s.value;
  } finally {
    await session.close();
  }
}

/** Worker-thread side of maximizeLinearOnPool (a session of the pool): the search's context, made once. */
export function treeContextOnWorker(ctx: Omit<TreeContext, 'boundsFn'>): TreeContext {
  return { ...ctx, boundsFn: crownBounds };
}

interface SplitJob {
  rule: SplitRule;
  best: number;
  node: Node;
}

export function splitOnWorker(job: SplitJob, ctx: TreeContext): NodeSplit {
  return splitNode(ctx, job.rule, job.node, job.best);
}

function* maximizeSteps(net: Network, domain: Box[], k: number, c: Float64Array, d: number, opts: MaximizeOptions): Generator<TreeStep, MaximizeResult, StepDone> {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const absPrec = opts.precision ?? 1e-3;
  const relPrec = opts.relativePrecision ?? 1e-3;
  const steps = opts.slopeSteps ?? 8;
  const boundsFn = opts.boundsFn ?? crownBounds;
  const n = net.inputSize;
  const many = manyInputs(n);
  // the network up to layer k: nothing above it matters
  const below: Network = { inputSize: n, layers: net.layers.slice(0, k + 1) };
  // two trees share the memory budget; an open box holds its box and its bounds
  const maxOpen = opts.maxOpen ?? openCap(boxBytes(n) + boundsBytes(below)) / 2;
  const maxBoxes = opts.maxBoxes ?? Infinity;
  const negC = c.map((v) => -v);
  const valueAt = (xs: Float64Array, count: number): Float64Array => {
    const pre = forwardTrace(below, xs, count).pre[k];
    const m = c.length;
    const out = new Float64Array(count);
    for (let s = 0; s < count; s++) {
      let v = d;
      for (let i = 0; i < m; i++) v += c[i] * pre[s * m + i];
      out[s] = v;
    }
    return out;
  };
  let best = -Infinity;
  let witness = boxCenter(domain[0]);
  /** x as a witness, its value known (plain evaluation) */
  const considerAt = (x: Float64Array, v: number): void => {
    if (v > best) {
      best = v;
      witness = x;
    }
  };
  const consider = (x: Float64Array): void => considerAt(x, valueAt(x, 1)[0]);
  const tctx: TreeContext = { below, k, c, d, steps, domain, boundsFn, absPrec, relPrec, ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}) };
  // boxes whose bound is at most this are settled: within the precision of the best value (a gap that grows with
  // |best|), or with a threshold, at most the threshold; with a threshold, a value above it settles the whole question
  const closeAt = (): number => closeAtFor(tctx, best);
  const settled = (): boolean => opts.threshold !== undefined && best > opts.threshold;
  let boxes = 0;
  const upperOn = (box: Box, fb: NetworkBounds): number => {
    boxes++;
    return upperBound(tctx, box, fb, closeAt());
  };

  // 1. a first witness: samples, then walks over linear regions from the best of them and from each box's centre
  const rng = mulberry32(opts.seed ?? 5);
  domain.forEach((box) => {
    const count = opts.samples ?? (many ? 200 : 1000);
    const xs = samplePoints(box, count, rng);
    const vs = valueAt(xs, count);
    const order = Array.from({ length: count }, (_, s) => s).sort((a, b) => vs[b] - vs[a]).slice(0, START_ASCENTS);
    const starts = [boxCenter(box), ...order.map((s) => xs.slice(s * n, (s + 1) * n))];
    consider(maximizeByRegions(below, box, k, c, starts, Math.min(deadline, Date.now() + START_SHARE * opts.timeoutMs)).x);
  });

  // 2. the bound: best-first input splitting, or ReLU splitting with many inputs
  const rootBounds = domain.map((box) => {
    const fb = boundsFn(below, box);
    // with many inputs splitting helps little: the root's bounds are worth optimising once
    return many && k > 0 ? alphaCrownBounds(below, box, fb, steps, deadline) : fb;
  });
  if (many && k > 0) return boundByReluSplitting();
  // Which split is best is erratic here too: trying every input (the one whose worse half bounds best) gave a
  // bound of 0.49 where the widest input gave 307 (ACAS Xu 2_7, output 0 over property 1's box, 30 s), and the widest
  // input proved 5_9's output 0 over property 3's box in 0.4 s where trying every input took 15 s. So two trees, one
  // per rule, take turns in short slices; each tree's bound is sound, the smaller one counts.
  // A threshold question (a neuron's sign) takes the widest input alone, as the census does: 5_9's fourth-layer
  // neuron 48 is proved never active in 14 s that way, and is still open after 30 s with the two trees.
  // (With many inputs only k = 0 gets here, a linear objective whose root box closes at once.)
  const rules = n > 1 && !many && opts.threshold === undefined ? (['trial', 'widest'] as const) : (['widest'] as const);
  const trees = rules.map((rule) => splitTree(rule));
  const boundNow = (): number => Math.max(best, Math.min(...trees.map((t) => t.upper())));
  const batch = Math.max(1, Math.floor(opts.batch ?? 1));
  let nextReport = Date.now() + 500;
  for (;;) {
    for (const t of trees) {
      if ((yield* t.grow(Math.min(deadline, Date.now() + SLICE_MS))) === 'done') return { status: 'proved', value: best, bound: boundNow(), witness, boxes, timeMs: Date.now() - t0 };
    }
    if (boundNow() <= closeAt() || settled()) return { status: 'proved', value: best, bound: boundNow(), witness, boxes, timeMs: Date.now() - t0 };
    const full = trees.every((t) => t.full());
    const worked = boxes >= maxBoxes;
    if (Date.now() > deadline || full || worked) return { status: 'unknown', value: best, bound: boundNow(), witness, boxes, timeMs: Date.now() - t0, reason: full ? 'memory limit' : worked ? 'box limit' : 'timeout' };
    if (opts.onProgress && Date.now() > nextReport) {
      nextReport = Date.now() + 500;
      opts.onProgress(best, boundNow(), boxes, trees.reduce((s, t) => s + t.open(), 0));
    }
  }

  /** A best-first input-splitting tree over the domain, grown in slices until the precision is reached. */
  function splitTree(rule: SplitRule) {
    const heap = new MaxHeap<Node>();
    let closedMax = -Infinity;
    const push = (node: Node): void => {
      if (node.centreValue !== undefined) considerAt(boxCenter(node.box), node.centreValue);
      else consider(boxCenter(node.box));
      if (node.upper <= closeAt()) closedMax = Math.max(closedMax, node.upper);
      else heap.push(node.upper, { ...node, fb: heldBounds(node.fb) });
    };
    domain.forEach((box, region) => push({ region, box, fb: rootBounds[region], upper: upperOn(box, rootBounds[region]) }));
    let pops = 0;
    const upper = (): number => Math.max(closedMax, heap.size ? heap.peekKey() : -Infinity, best);
    return {
      upper,
      open: (): number => heap.size,
      full: (): boolean => heap.size > maxOpen,
      *grow(until: number): Generator<TreeStep, 'done' | 'open', StepDone> {
        while (heap.size > 0) {
          if (upper() <= closeAt() || settled()) return 'done';
          if (Date.now() > until || heap.size > maxOpen || boxes >= maxBoxes) return 'open';
          const items: Node[] = [];
          const walks: TreeStep['walks'] = [];
          while (items.length < batch && heap.size > 0) {
            const node = heap.pop()!;
            // the best value may have risen since it was pushed
            if (node.upper <= closeAt()) {
              closedMax = Math.max(closedMax, node.upper);
              continue;
            }
            if (++pops % ASCENT_EVERY === 0) walks.push({ region: node.region, from: boxCenter(node.box), until });
            items.push(node);
          }
          if (items.length === 0) continue;
          const done = yield { ctx: tctx, rule, best, items, walks };
          for (const x of done.walked) consider(x);
          // in the order of the step, so the tree is the same however its boxes were split
          done.splits.forEach((r, i) => {
            boxes += r.boxes;
            if (!r.children) {
              // a single point: its value is exact up to the bound's widening
              consider(items[i].box.lo.slice());
              closedMax = Math.max(closedMax, items[i].upper);
            } else for (const ch of r.children) push(ch);
          });
        }
        return 'done';
      },
    };
  }

  /**
   * Many inputs: halving one input of hundreds barely moves a bound, so each open domain box is bounded by ReLU
   * splitting instead, on the network cut at layer k: prove c . z_k + d < t for t = closeAt(); a
   * counterexample raises `best` and the search restarts with the new threshold; at the deadline the search's proved
   * lower bound of t - (c . z_k + d) gives the bound.
   */
  function boundByReluSplitting(): MaximizeResult {
    const Lk = below.layers[k];
    const cut: Network = { inputSize: n, layers: [...below.layers.slice(0, k), makeLayer(Lk.inSize, Lk.outSize, Lk.weights, Lk.bias, false)] };
    const roots = domain.map((box, region) => ({ box, fb: rootBounds[region], upper: upperOn(box, rootBounds[region]) }));
    let upper = -Infinity;
    let reason: MaximizeResult['reason'] = 'timeout';
    roots.forEach((node, r) => {
      const share = Date.now() + (deadline - Date.now()) / (roots.length - r);
      let u = node.upper;
      for (;;) {
        // a little below closeAt(), so that the widened bound still meets it
        const t = closeAt() - (1e-9 * (Math.abs(closeAt()) + Math.abs(d)) + 1e-11);
        if (u <= closeAt() || settled()) break;
        const bab = new ReluBab(cut, node.box, node.fb, negC, t - d, {
          ...(opts.maxOpen !== undefined ? { maxOpen: opts.maxOpen } : {}),
          ...(opts.maxBoxes !== undefined ? { maxNodes: opts.maxBoxes } : {}),
        });
        // in slices, to report progress
        let st = bab.run(Math.min(share, Date.now() + 1000));
        while (st === 'unknown' && !bab.exhausted && Date.now() < share) {
          opts.onProgress?.(best, Math.max(best, Math.min(u, t - bab.lower)), boxes + bab.nodes, bab.openNodes);
          st = bab.run(Math.min(share, Date.now() + 1000));
        }
        boxes += bab.nodes;
        // widened: t - d and the subtraction below round
        if (st === 'proved') u = Math.min(u, widenHi(t, Math.abs(t) + Math.abs(d)));
        else if (st === 'unknown') {
          u = Math.min(u, widenHi(t - bab.lower, Math.abs(t) + Math.abs(d) + Math.abs(bab.lower)));
          if (bab.exhausted && Date.now() < share) reason = bab.openNodes === 0 ? 'incomplete' : bab.limit ?? 'memory limit';
        }
        // refuted: a witness of c . z_k + d >= t, evaluated again here; it raises best, so the next round is new
        if (st !== 'refuted' || !bab.witness) break;
        const before = best;
        consider(bab.witness);
        if (!(best > before)) break;
      }
      upper = Math.max(upper, u);
    });
    const bound = Math.max(upper, best);
    const proved = bound <= closeAt() || settled();
    return { status: proved ? 'proved' : 'unknown', value: best, bound, witness, boxes, timeMs: Date.now() - t0, ...(proved ? {} : { reason }) };
  }
}

/** Minimum of c . z_k + d: the maximum of -c . z_k - d, negated (a threshold asks "is the minimum at least it?"). */
export function minimizeLinear(net: Network, domain: Box[], k: number, c: Float64Array, d: number, opts: MaximizeOptions): MaximizeResult {
  return negated(maximizeLinear(net, domain, k, c.map((v) => -v), -d, negatedOptions(opts)));
}

export async function minimizeLinearOnPool(net: Network, domain: Box[], k: number, c: Float64Array, d: number, opts: Omit<MaximizeOptions, 'boundsFn'>, pool: SessionPool): Promise<MaximizeResult> {
  return negated(await maximizeLinearOnPool(net, domain, k, c.map((v) => -v), -d, negatedOptions(opts), pool));
}

/** The options of a minimisation as those of the maximisation of the negated objective. */
function negatedOptions<O extends Omit<MaximizeOptions, 'boundsFn'>>(opts: O): O {
  return {
    ...opts,
    ...(opts.threshold !== undefined ? { threshold: -opts.threshold } : {}),
    ...(opts.onProgress ? { onProgress: (v: number, b: number, n: number, o: number) => opts.onProgress!(-v, -b, n, o) } : {}),
  };
}

function negated(r: MaximizeResult): MaximizeResult {
  return { ...r, value: -r.value, bound: -r.bound };
}

/** One neuron's phase over a domain, with the witnesses found and the proved range of its pre-activation. */
export interface NeuronPhaseAnswer {
  phase: 'never' | 'always' | 'both' | 'unknown';
  /** inputs where the pre-activation is > 0 / < 0 (plain evaluation), when found */
  activeWitness?: Float64Array;
  inactiveWitness?: Float64Array;
  /** proved bounds: the pre-activation lies in [lower, upper] over the domain (lower is not sought, -Infinity, once
   * the neuron is proved never active) */
  lower: number;
  upper: number;
  boxes: number;
  timeMs: number;
}

/**
 * The phase of one neuron over the domain: never active (its pre-activation is <= 0 everywhere, proved), always
 * active (>= 0, proved), both (two witnesses) or unknown. Two threshold questions at 0, half the time each, their
 * trees' steps on the pool's workers (the trees do not depend on how many).
 */
export async function neuronPhase(net: Network, domain: Box[], layer: number, index: number, opts: Omit<MaximizeOptions, 'boundsFn'>, pool: SessionPool): Promise<NeuronPhaseAnswer> {
  const t0 = Date.now();
  const c = new Float64Array(net.layers[layer].outSize);
  c[index] = 1;
  const hi = await maximizeLinearOnPool(net, domain, layer, c, 0, { ...opts, threshold: 0, timeoutMs: opts.timeoutMs / 2 }, pool);
  const base = { boxes: hi.boxes, upper: hi.bound, lower: -Infinity };
  const active = hi.value > 0 ? { activeWitness: hi.witness } : {};
  if (hi.status === 'proved' && hi.bound <= 0) return { phase: 'never', ...base, timeMs: Date.now() - t0 };
  const lo = await minimizeLinearOnPool(net, domain, layer, c, 0, { ...opts, threshold: 0, timeoutMs: Math.max(0, opts.timeoutMs - (Date.now() - t0)) }, pool);
  const inactive = lo.value < 0 ? { inactiveWitness: lo.witness } : {};
  const both = { ...base, ...active, ...inactive, lower: lo.bound, boxes: hi.boxes + lo.boxes, timeMs: Date.now() - t0 };
  if (lo.status === 'proved' && lo.bound >= 0) return { phase: 'always', ...both };
  return { phase: hi.value > 0 && lo.value < 0 ? 'both' : 'unknown', ...both };
}
