/**
 * Equivalence of a network f and a network g derived from it, over a union of boxes, by input-splitting branch and
 * bound on the layer-by-layer difference bounds (diff-bounds.ts). Falsification first (samples, box centres);
 * every witness is re-checked by plain forward evaluation of both networks.
 */
import { forward, outputSize, type Network } from '../../model/network.ts';
import { differenceNetwork } from './product-network.ts';
import { maximizeByRegions } from '../search/search.ts';
import type { Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { Verdict } from '../verdict.ts';
import type { AlignedPair } from './diff/diff-pair.ts';
import { differenceBounds, planDifference, type DiffBounds, type DiffPlan } from './diff/diff-bounds.ts';
import { MaxHeap } from '../search/heap.ts';
import { chooseSplit, manyInputs } from '../search/split.ts';
import { gKeepsWinner, provedUniqueWinner } from './class-relu-split.ts';
import { BOX_LIMIT, MEMORY_LIMIT, boxBytes, openCap } from '../search/limits.ts';
import { coverDomain, sampleCoverBox } from '../search/cover.ts';

/** Bounds of every layer over a box; `parent`, if given, holds sound bounds over a box that contains it. */
export type BoundsFn = (net: Network, box: Box, parent?: NetworkBounds) => NetworkBounds;
/**
 * `base` with proved phase facts of `net` applied to its bounds (never active: upper bound at most 0; always
 * active: lower bound at least 0). Facts proved on a domain hold on every box inside it; other networks are
 * bounded by `base` as they are.
 */
export function withPhaseFacts(base: BoundsFn, net: Network, facts: Array<{ layer: number; index: number; sign: 1 | -1 }>): BoundsFn {
  if (!facts.length) return base;
  return (n, box, parent) => {
    const b = base(n, box, parent);
    if (n !== net) return b;
    for (const p of facts) {
      if (p.sign < 0) b[p.layer].hi[p.index] = Math.min(b[p.layer].hi[p.index], 0);
      else b[p.layer].lo[p.index] = Math.max(b[p.layer].lo[p.index], 0);
    }
    return b;
  };
}

/** A sound lower bound of c . f(x) over the box (c over f's outputs), given f's bounds there. */
export type OutputLinearLower = (net: Network, box: Box, fb: NetworkBounds, c: Float64Array) => number;

export interface EquivOptions {
  boundsFn: BoundsFn;
  outputLinearLower?: OutputLinearLower;
  timeoutMs: number;
  /** a work limit: at most this many boxes bounded (default 2,000,000; 4 with more than 32 inputs), then unknown,
   * reason 'box limit' (epsilon 0: the bound so far), at the same box on any machine */
  maxBoxes?: number;
  /** class mode, many inputs: a work limit (nodes) for each ReLU-splitting search on g (default none) */
  maxNodes?: number;
  /** at most this many open boxes (default SEARCH_MEMORY_BYTES over what one holds, limits.ts), then unknown, reason
   * 'memory limit' (epsilon 0: the bound so far) */
  maxOpen?: number;
  samples?: number;
  seed?: number;
  /** class mode: g's scores are only known within +-gSlack/2 (folding/rounding), so g's winner needs this lead */
  gSlack?: number;
  /** class mode: proved lower bounds of sigma (f_a - f_b) over every box (index a * m + b), e.g. class-margins.ts */
  fLower?: Float64Array;
  /** called now and then with the number of boxes processed and the open ones */
  onProgress?: (done: number, open: number) => void;
}

export interface LinfResult {
  verdict: Verdict;
  /** proved: max |f - g| <= provedBound over the domain (Infinity if nothing was proved) */
  provedBound: number;
  /** the largest |f - g| seen at a concrete point */
  foundMax: number;
  boxes: number;
}

interface Node {
  box: Box;
  bound: number;
}

/**
 * Input splitting pays with few inputs; with hundreds (an MNIST ball) halving one pixel's range barely moves any
 * bound, so a failed root box is not worth seconds of splitting: a few boxes, then "unknown".
 */
function defaultMaxBoxes(inputs: number): number {
  return inputs > 32 ? 4 : 2_000_000;
}

/** The open-box cap: the memory budget over a box and its key (the difference bounds are not kept). */
function defaultMaxOpen(inputs: number): number {
  return openCap(boxBytes(inputs) + 32);
}

/** Why a branch and bound stopped open: its memory (open boxes), its work limit, or the clock. */
function stopReason(open: number, maxOpen: number, count: number, maxBoxes: number): string {
  return open > maxOpen ? MEMORY_LIMIT : count >= maxBoxes ? BOX_LIMIT : 'timeout';
}

/**
 * The difference is carried symbolically (as linear functions of the input) up to this many inputs: its cost grows
 * with n^2 x inputs per layer, and past a few dozen inputs one box costs more than the interval bounds gain.
 */
const SYMBOLIC_MAX_INPUTS = 32;

/**
 * Diff bounds of one box, with f's bounds computed on it: the output difference also bounded backward, which keeps
 * the cancellation between paths (with few inputs too: ACAS Xu 1_1 against its float16-rounded weights, boxes of
 * 100%, 25%, 5%, 1% of the domain's width: symbolic alone 1,128, 92, 0.021, 1.1e-5; with the backward bound 700, 57,
 * 0.013, 4.0e-6, where sampling finds 3.5e-6 at 1%; at about the same cost per box).
 */
function boxDiff(plan: DiffPlan, box: Box, opts: EquivOptions): { d: DiffBounds; fb: NetworkBounds } {
  const fb = opts.boundsFn(plan.pair.f, box);
  return { d: differenceBounds(plan, box, fb, { symbolic: box.lo.length <= SYMBOLIC_MAX_INPUTS, backward: true }), fb };
}

function worstAbs(d: DiffBounds): number {
  const k = d.lo.length - 1;
  let m = 0;
  for (let i = 0; i < d.lo[k].length; i++) m = Math.max(m, -d.lo[k][i], d.hi[k][i]);
  return m;
}

/** Max over outputs of |f - g| at the points of a batch; returns the value and the index of the worst point. */
export function worstPoint(f: Network, g: Network, xs: Float64Array, batch: number): { value: number; index: number } {
  const yf = forward(f, xs, batch);
  const yg = forward(g, xs, batch);
  const m = yf.length / batch;
  let value = -Infinity;
  let index = -1;
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < m; i++) {
      const v = Math.abs(yf[s * m + i] - yg[s * m + i]);
      if (v > value) {
        value = v;
        index = s;
      }
    }
  }
  return { value, index };
}

function center(box: Box): Float64Array {
  const c = new Float64Array(box.lo.length);
  for (let i = 0; i < c.length; i++) c[i] = 0.5 * (box.lo[i] + box.hi[i]);
  return c;
}

/**
 * Proves max |f - g| <= epsilon over the union of boxes, or refutes it with a re-checked witness.
 * With epsilon = 0 and a box budget it serves as "how large can the difference be": it refines the worst box first
 * and reports both the proved bound and the largest difference found.
 */
export function checkLinf(pair: AlignedPair, domain: Box[], epsilon: number, opts: EquivOptions): LinfResult {
  const t0 = Date.now();
  // very many boxes: proved on hulls of groups of them (cover.ts); witnesses only from the domain itself
  const cover = coverDomain(domain);
  const boxes = cover.boxes;
  const plan = planDifference(pair);
  const { f, g } = pair;
  const rng = mulberry32(opts.seed ?? 1);
  const maxBoxes = opts.maxBoxes ?? defaultMaxBoxes(pair.f.inputSize);
  const maxOpen = opts.maxOpen ?? defaultMaxOpen(pair.f.inputSize);
  let foundMax = 0;
  let witness: Float64Array | null = null;
  const n = f.inputSize;
  // points of the domain (samples from its boxes; a box centre or a search's end point only if it lies in one)
  const consider = (xs: Float64Array, batch: number): void => {
    if (batch === 1 && !cover.contains(xs)) return;
    const w = worstPoint(f, g, xs, batch);
    if (w.value > foundMax) {
      foundMax = w.value;
      witness = xs.slice(w.index * n, (w.index + 1) * n);
    }
  };
  const starts = boxes.map((_, i) => {
    const xs = sampleCoverBox(cover, i, opts.samples ?? 512, rng);
    consider(xs, opts.samples ?? 512);
    return xs;
  });
  const done = (verdict: Verdict, provedBound: number, count: number): LinfResult => ({
    verdict,
    provedBound,
    foundMax,
    boxes: count,
  });
  // epsilon = 0 asks for the bound itself (how large can the difference be), so nothing is refuted then
  if (epsilon > 0 && foundMax > epsilon && witness) {
    return done(refuted(witness, t0, foundMax), Infinity, 0);
  }
  const heap = new MaxHeap<Node>();
  let count = 0;
  let nextReport = 256;
  let closedMax = 0;
  const score = (b: Box): number => {
    count++;
    return worstAbs(boxDiff(plan, b, opts).d);
  };
  for (const b of boxes) {
    const v = score(b);
    if (v <= epsilon && epsilon > 0) closedMax = Math.max(closedMax, v);
    else heap.push(v, { box: b, bound: v });
  }
  if (epsilon > 0 && heap.size === 0) {
    return done({ status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: count, bound: closedMax } }, closedMax, count);
  }
  // the domain's boxes are not all closed at once: a local search for large differences (a tenth of the time at
  // most) finds larger witnesses than sampling; not before, since where the bounds close at once it is all the
  // query costs (MNIST 256x2 in prune's tolerance search: 2.4 s of a 2.5 s query)
  searchDifference(f, g, boxes, starts, Date.now() + WITNESS_SHARE * opts.timeoutMs, (x) => {
    consider(x, 1);
    return epsilon > 0 && foundMax > epsilon;
  });
  if (epsilon > 0 && foundMax > epsilon && witness) {
    return done(refuted(witness, t0, foundMax), Infinity, count);
  }
  while (heap.size > 0) {
    const top = heap.peekKey();
    // The worst open box decides the proved bound; stop when it is good enough.
    if (epsilon > 0 ? top <= epsilon : top <= foundMax * 1.01 + 1e-9) break;
    if (Date.now() - t0 > opts.timeoutMs || count >= maxBoxes || heap.size > maxOpen) {
      const bound = Math.max(closedMax, top);
      const reason = stopReason(heap.size, maxOpen, count, maxBoxes);
      const v: Verdict =
        epsilon > 0
          ? { status: 'unknown', method: 'diff-bab', timeMs: Date.now() - t0, reason, detail: { boxes: count, openBound: top } }
          : { status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: count, bound, stopped: reason } };
      return done(v, bound, count);
    }
    const node = heap.pop()!;
    const c = center(node.box);
    consider(c, 1);
    if (epsilon > 0 && foundMax > epsilon && witness) return done(refuted(witness, t0, foundMax), Infinity, count);
    const { children, values } = chooseSplit(node.box, boxes[0], score);
    children.forEach((ch, i) => {
      const v = values[i];
      if (epsilon > 0 && v <= epsilon) closedMax = Math.max(closedMax, v);
      else heap.push(v, { box: ch, bound: v });
    });
    if (opts.onProgress && count >= nextReport) {
      nextReport = count + 256;
      opts.onProgress(count, heap.size);
    }
  }
  const bound = Math.max(closedMax, heap.size ? heap.peekKey() : 0);
  return done({ status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: count, bound } }, bound, count);
}

/** The share of a query's time the witness search may take (it finds larger differences than sampling). */
const WITNESS_SHARE = 0.1;

/**
 * Local search for a large |f_k - g_k|: walks over linear regions of f - g (one network, side by side) from the two
 * best samples of each output and sign. On ACAS Xu 1_1 against its float16-rounded copy over the full box it finds
 * 0.0078 where 4,096 samples give 0.0017. `found` gets every end point (plain evaluations); true stops the search.
 */
function searchDifference(f: Network, g: Network, boxes: Box[], samples: Float64Array[], deadline: number, found: (x: Float64Array) => boolean): void {
  const h = differenceNetwork(f, g);
  const last = h.layers.length - 1;
  const m = outputSize(f);
  const n = f.inputSize;
  for (const [bi, box] of boxes.entries()) {
    const xs = samples[bi];
    const batch = xs.length / n;
    const d = forward(h, xs, batch);
    for (let k = 0; k < m; k++) {
      for (const sign of [1, -1]) {
        if (Date.now() >= deadline) return;
        const order = [...Array(batch).keys()].sort((a, b) => sign * (d[b * m + k] - d[a * m + k]) || a - b);
        const from = order.slice(0, 2).map((s) => xs.slice(s * n, (s + 1) * n));
        const c = new Float64Array(m);
        c[k] = sign;
        const r = maximizeByRegions(h, box, last, c, from, Math.min(deadline, Date.now() + (deadline - Date.now()) / 4));
        if (found(r.x)) return;
      }
    }
  }
}

function refuted(witness: Float64Array, t0: number, value: number): Verdict {
  return { status: 'refuted', method: 'sampling', timeMs: Date.now() - t0, witness, detail: { difference: value } };
}

export interface ClassResult {
  verdict: Verdict;
  boxes: number;
}

/**
 * Proves that wherever f's winning output (argmin or argmax) beats every other output by at least `margin`,
 * g's winner is the same output. Violation (what we show impossible), for outputs m != i with scores sigma * y:
 * sigma (f_i - f_m) + margin <= 0 and sigma (g_m - g_j) <= 0 for all j != m.
 */
export function checkClass(
  pair: AlignedPair,
  domain: Box[],
  order: 'argmax' | 'argmin',
  margin: number,
  opts: EquivOptions,
): ClassResult {
  const t0 = Date.now();
  // very many boxes: proved on hulls of groups of them (cover.ts); witnesses only from the domain itself
  const cover = coverDomain(domain);
  const boxes = cover.boxes;
  const plan = planDifference(pair);
  const { f, g } = pair;
  const sigma = order === 'argmin' ? 1 : -1;
  const m = f.layers[f.layers.length - 1].outSize;
  const n = f.inputSize;
  const rng = mulberry32(opts.seed ?? 1);
  const maxBoxes = opts.maxBoxes ?? defaultMaxBoxes(pair.f.inputSize);
  const maxOpen = opts.maxOpen ?? defaultMaxOpen(pair.f.inputSize);
  const lowerDiff = (box: Box, fb: NetworkBounds, a: number, b: number): number => {
    // lower bound of sigma (f_a - f_b)
    if (opts.outputLinearLower) {
      const c = new Float64Array(m);
      c[a] = sigma;
      c[b] = -sigma;
      return opts.outputLinearLower(f, box, fb, c);
    }
    const last = fb[fb.length - 1];
    return sigma > 0 ? last.lo[a] - last.hi[b] : last.lo[b] - last.hi[a];
  };
  const violationAt = (xs: Float64Array, batch: number): number => {
    const yf = forward(f, xs, batch);
    const yg = forward(g, xs, batch);
    for (let s = 0; s < batch; s++) {
      let w = 0;
      for (let j = 1; j < m; j++) if (sigma * yg[s * m + j] < sigma * yg[s * m + w]) w = j;
      for (let i = 0; i < m; i++) {
        if (i !== w && sigma * (yf[s * m + i] - yf[s * m + w]) + margin <= 0) return s;
      }
    }
    return -1;
  };
  for (const [i] of boxes.entries()) {
    const xs = sampleCoverBox(cover, i, opts.samples ?? 512, rng);
    const s = violationAt(xs, opts.samples ?? 512);
    if (s >= 0) return { verdict: classWitness(xs.slice(s * n, (s + 1) * n), t0), boxes: 0 };
  }
  // openness of a box: how far the least-refuted disjunct is from being infeasible (<= 0 means closed)
  let count = 0;
  const score = (box: Box): number => {
    count++;
    const { d, fb } = boxDiff(plan, box, opts);
    const k = d.lo.length - 1;
    const dl = d.lo[k];
    const dh = d.hi[k];
    const L = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) if (a !== b) L[a * m + b] = Math.max(lowerDiff(box, fb, a, b), opts.fLower?.[a * m + b] ?? -Infinity);
    }
    let worst = -Infinity;
    for (let w = 0; w < m; w++) {
      // can g's winner be w? needs sigma (g_w - g_j) <= 0 for all j: infeasible if some lower bound > 0
      let gBlocked = -Infinity;
      for (let j = 0; j < m; j++) {
        if (j === w) continue;
        const dd = sigma > 0 ? dl[w] - dh[j] : dl[j] - dh[w];
        gBlocked = Math.max(gBlocked, L[w * m + j] + dd - (opts.gSlack ?? 0));
      }
      for (let i = 0; i < m; i++) {
        if (i === w) continue;
        const fBlocked = L[i * m + w] + margin;
        // the sum of sigma (f_i - f_w) + margin <= 0 and sigma (g_w - g_i) <= 0 is margin + sigma (D_w - D_i) <= 0:
        // near f's decision boundaries the two only contradict each other jointly
        const dd = sigma > 0 ? dl[w] - dh[i] : dl[i] - dh[w];
        const jointBlocked = margin + dd - (opts.gSlack ?? 0);
        const blocked = Math.max(gBlocked, fBlocked, jointBlocked);
        worst = Math.max(worst, -blocked);
      }
    }
    return worst;
  };
  const heap = new MaxHeap<Box>();
  let nextReport = 256;
  for (const b of boxes) {
    const v = score(b);
    if (v >= 0) heap.push(v, b);
  }
  while (heap.size > 0) {
    if (Date.now() - t0 > opts.timeoutMs || count >= maxBoxes || heap.size > maxOpen) {
      // many inputs: input splitting stops after a few boxes; with f's winner proved unique, ReLU splitting on g
      // alone may still show g keeps it (MNIST 256x2 prop_2_0.03, one neuron removed: 6 ms where this gives up)
      const winner = provedUniqueWinner(opts.fLower, m);
      if (count >= maxBoxes && manyInputs(n) && winner >= 0) {
        const r = gKeepsWinner(g, boxes, winner, order, opts.gSlack ?? 0, opts.boundsFn, t0 + opts.timeoutMs, opts.maxNodes);
        if (r.status === 'proved') return { verdict: { status: 'proved', method: 'relu-split', timeMs: Date.now() - t0, detail: { boxes: count, nodes: r.nodes } }, boxes: count };
        if (r.candidate && cover.contains(r.candidate) && violationAt(r.candidate, 1) >= 0) return { verdict: classWitness(r.candidate, t0), boxes: count };
      }
      return {
        verdict: { status: 'unknown', method: 'diff-bab', timeMs: Date.now() - t0, reason: stopReason(heap.size, maxOpen, count, maxBoxes), detail: { boxes: count } },
        boxes: count,
      };
    }
    const box = heap.pop()!;
    const c = center(box);
    if (cover.contains(c) && violationAt(c, 1) >= 0) return { verdict: classWitness(c, t0), boxes: count };
    const { children, values } = chooseSplit(box, boxes[0], score);
    children.forEach((ch, i) => {
      if (values[i] >= 0) heap.push(values[i], ch);
    });
    if (opts.onProgress && count >= nextReport) {
      nextReport = count + 256;
      opts.onProgress(count, heap.size);
    }
  }
  return { verdict: { status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: count } }, boxes: count };
}

function classWitness(x: Float64Array, t0: number): Verdict {
  return { status: 'refuted', method: 'sampling', timeMs: Date.now() - t0, witness: x };
}
