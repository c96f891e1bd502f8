/**
 * Maximise (or minimise) a linear function c . z_k + d of one layer's pre-activations (for the last layer: the
 * outputs) over a union of boxes, to a stated precision. The answer encloses the true optimum: `value` is the
 * objective at a witness input (plain forward evaluation: a maximum is at least that), `bound` a sound bound on
 * the other side (every box of a cover bounded by back-substitution, optimised slopes where that matters, widened
 * outward). `proved` means the gap |bound - value| is within the precision asked; on a timeout the enclosure so far
 * comes back `unknown`.
 *
 * Search: samples and sign-gradient ascents for the witness; best-first input splitting for the bound (the box with
 * the highest bound is split; two trees, one halving the input widest relative to the domain and one trying every
 * input, take turns). Boxes whose bound is within the precision of the best value found are closed; their bounds
 * still count. With many inputs (more than 8), ReLU splitting (relu-bab.ts) instead of input splitting.
 */
import { forwardTrace, makeLayer, type Network } from '../model/network.ts';
import { boxCenter, samplePoints, splitBox, type Box } from '../model/box.ts';
import { mulberry32 } from '../model/rng.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import { backwardBound, crownBounds } from '../bounds/backward.ts';
import { alphaCrownBounds, alphaLower } from '../bounds/alpha.ts';
import { widenHi } from '../bounds/round.ts';
import type { BoundsFn } from './equiv.ts';
import { MaxHeap } from './heap.ts';
import { maximizeByRegions } from './search.ts';
import { ReluBab } from './relu-bab.ts';
import { manyInputs, widestInput } from './split.ts';

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
  /** at most this many open boxes (each keeps its layers' bounds); past it the answer is unknown (default 50,000) */
  maxOpen?: number;
  /** samples per domain box for the first witness (default 1,000; 200 with more than 8 inputs) */
  samples?: number;
  seed?: number;
  /** called now and then with the witness's value and the bound so far, the boxes bounded and the open ones */
  onProgress?: (value: number, bound: number, boxes: number, open: number) => void;
}

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
  /** timeout; box limit (too many open boxes or nodes); incomplete (ReLU splitting has nothing left to split but
   * could not close some fully split nodes) */
  reason?: 'timeout' | 'box limit' | 'incomplete';
}

interface Node {
  region: number;
  box: Box;
  upper: number;
  fb: NetworkBounds;
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

/**
 * Maximum of c . z_k + d over the union of the domain's boxes, where z_k is layer k's pre-activation vector
 * (c has layer k's width).
 */
export function maximizeLinear(net: Network, domain: Box[], k: number, c: Float64Array, d: number, opts: MaximizeOptions): MaximizeResult {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const absPrec = opts.precision ?? 1e-3;
  const relPrec = opts.relativePrecision ?? 1e-3;
  const steps = opts.slopeSteps ?? 8;
  const maxOpen = opts.maxOpen ?? 50_000;
  const boundsFn = opts.boundsFn ?? crownBounds;
  const n = net.inputSize;
  const many = manyInputs(n);
  // the network up to layer k: nothing above it matters
  const below: Network = { inputSize: n, layers: net.layers.slice(0, k + 1) };
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
  // the gap allowed, which grows with |best|
  let precision = absPrec;
  const consider = (x: Float64Array): void => {
    const v = valueAt(x, 1)[0];
    if (v > best) {
      best = v;
      witness = x;
      precision = Math.max(absPrec, relPrec * Math.abs(best));
    }
  };
  // boxes whose bound is at most this are settled: within the precision of the best value, or with a threshold, at
  // most the threshold; with a threshold, a value above it settles the whole question
  const closeAt = (): number => opts.threshold ?? best + precision;
  const settled = (): boolean => opts.threshold !== undefined && best > opts.threshold;
  let boxes = 0;
  /** Sound upper bound over the box: the best of the layer's interval, the back-substitution and optimised slopes. */
  const upperOn = (box: Box, fb: NetworkBounds): number => {
    boxes++;
    const L = fb[k];
    let iv = d;
    let mag = Math.abs(d);
    for (let i = 0; i < c.length; i++) {
      if (c[i] === 0) continue;
      iv += c[i] > 0 ? c[i] * L.hi[i] : c[i] * L.lo[i];
      mag += Math.abs(c[i]) * Math.max(Math.abs(L.lo[i]), Math.abs(L.hi[i]));
    }
    let u = Math.min(widenHi(iv, mag), backwardBound(below, box, fb, k, c, d, 'upper').hi);
    if (k > 0 && steps > 0 && u > closeAt()) {
      u = Math.min(u, -alphaLower(below, box, fb, k, negC, -d, { iterations: steps, target: -(closeAt()) }));
    }
    return u;
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
  let nextReport = Date.now() + 500;
  for (;;) {
    for (const t of trees) {
      if (t.run(Math.min(deadline, Date.now() + SLICE_MS)) === 'done') return { status: 'proved', value: best, bound: boundNow(), witness, boxes, timeMs: Date.now() - t0 };
    }
    if (boundNow() <= closeAt() || settled()) return { status: 'proved', value: best, bound: boundNow(), witness, boxes, timeMs: Date.now() - t0 };
    const full = trees.every((t) => t.full());
    if (Date.now() > deadline || full) return { status: 'unknown', value: best, bound: boundNow(), witness, boxes, timeMs: Date.now() - t0, reason: full ? 'box limit' : 'timeout' };
    if (opts.onProgress && Date.now() > nextReport) {
      nextReport = Date.now() + 500;
      opts.onProgress(best, boundNow(), boxes, trees.reduce((s, t) => s + t.open(), 0));
    }
  }

  /** A best-first input-splitting tree over the domain, run in slices until the precision is reached. */
  function splitTree(rule: 'trial' | 'widest') {
    const heap = new MaxHeap<Node>();
    let closedMax = -Infinity;
    const push = (region: number, box: Box, fb: NetworkBounds): void => {
      consider(boxCenter(box));
      const u = upperOn(box, fb);
      if (u <= closeAt()) closedMax = Math.max(closedMax, u);
      else heap.push(u, { region, box, upper: u, fb });
    };
    domain.forEach((box, region) => push(region, box, rootBounds[region]));
    let pops = 0;
    const upper = (): number => Math.max(closedMax, heap.size ? heap.peekKey() : -Infinity, best);
    return {
      upper,
      open: (): number => heap.size,
      full: (): boolean => heap.size > maxOpen,
      run(until: number): 'done' | 'open' {
        while (heap.size > 0) {
          if (upper() <= closeAt() || settled()) return 'done';
          if (Date.now() > until || heap.size > maxOpen) return 'open';
          const node = heap.pop()!;
          // the best value may have risen since it was pushed
          if (node.upper <= closeAt()) {
            closedMax = Math.max(closedMax, node.upper);
            continue;
          }
          if (++pops % ASCENT_EVERY === 0) consider(maximizeByRegions(below, domain[node.region], k, c, [boxCenter(node.box)], Math.min(until, Date.now() + WALK_MS)).x);
          const children = rule === 'trial' ? bestSplit(node) : widestSplit(node, domain[node.region]);
          if (!children) {
            // a single point: its value is exact up to the bound's widening
            consider(node.box.lo.slice());
            closedMax = Math.max(closedMax, node.upper);
            continue;
          }
          for (const ch of children) push(node.region, ch.box, ch.fb);
        }
        return 'done';
      },
    };
  }

  /** The halves at the input widest relative to the domain box (null for a single point). */
  function widestSplit(node: Node, root: Box): Array<{ box: Box; fb: NetworkBounds }> | null {
    const dim = widestInput(node.box, root);
    if (!(node.box.hi[dim] > node.box.lo[dim])) return null;
    return splitBox(node.box, dim).map((box) => ({ box, fb: boundsFn(below, box, node.fb) }));
  }

  /** Every input halved in turn, each half bounded by back-substitution: the halves whose worse bound is lowest. */
  function bestSplit(node: Node): Array<{ box: Box; fb: NetworkBounds }> | null {
    let pick: Array<{ box: Box; fb: NetworkBounds }> | null = null;
    let pickV = Infinity;
    for (let i = 0; i < n; i++) {
      if (!(node.box.hi[i] > node.box.lo[i])) continue;
      const ch = splitBox(node.box, i).map((box) => ({ box, fb: boundsFn(below, box, node.fb) }));
      boxes += 2;
      const [u0, u1] = ch.map((x) => backwardBound(below, x.box, x.fb, k, c, d, 'upper').hi);
      const v = Math.max(u0, u1) + 1e-3 * Math.min(u0, u1);
      if (v < pickV || !pick) {
        pickV = v;
        pick = ch;
      }
    }
    return pick;
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
        const bab = new ReluBab(cut, node.box, node.fb, negC, t - d);
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
          if (bab.exhausted && Date.now() < share) reason = bab.openNodes === 0 ? 'incomplete' : 'box limit';
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
  const r = maximizeLinear(net, domain, k, c.map((v) => -v), -d, {
    ...opts,
    ...(opts.threshold !== undefined ? { threshold: -opts.threshold } : {}),
    ...(opts.onProgress ? { onProgress: (v: number, b: number, n: number, o: number) => opts.onProgress!(-v, -b, n, o) } : {}),
  });
  return { ...r, value: -r.value, bound: -r.bound };
}

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
 * active (>= 0, proved), both (two witnesses) or unknown. Two threshold questions at 0, half the time each.
 */
export function neuronPhase(net: Network, domain: Box[], layer: number, index: number, opts: MaximizeOptions): NeuronPhaseAnswer {
  const t0 = Date.now();
  const c = new Float64Array(net.layers[layer].outSize);
  c[index] = 1;
  const hi = maximizeLinear(net, domain, layer, c, 0, { ...opts, threshold: 0, timeoutMs: opts.timeoutMs / 2 });
  const base = { boxes: hi.boxes, upper: hi.bound, lower: -Infinity };
  const active = hi.value > 0 ? { activeWitness: hi.witness } : {};
  if (hi.status === 'proved' && hi.bound <= 0) return { phase: 'never', ...base, timeMs: Date.now() - t0 };
  const lo = minimizeLinear(net, domain, layer, c, 0, { ...opts, threshold: 0, timeoutMs: Math.max(0, opts.timeoutMs - (Date.now() - t0)) });
  const inactive = lo.value < 0 ? { inactiveWitness: lo.witness } : {};
  const both = { ...base, ...active, ...inactive, lower: lo.bound, boxes: hi.boxes + lo.boxes, timeMs: Date.now() - t0 };
  if (lo.status === 'proved' && lo.bound >= 0) return { phase: 'always', ...both };
  return { phase: hi.value > 0 && lo.value < 0 ? 'both' : 'unknown', ...both };
}
