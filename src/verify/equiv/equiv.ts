/**
 * Equivalence of a network f and a network g derived from it, over a union of boxes, by input-splitting branch and
 * bound on the layer-by-layer difference bounds (diff/diff-bounds.ts): here max |f - g| <= epsilon, the same class in
 * equiv-class.ts. Falsification first (samples, a local search); every witness is re-checked by plain forward
 * evaluation of both networks. This module is also the face of both checks for the other layers.
 */
import { forward, outputSize, type Network } from '../../model/network.ts';
import { differenceNetwork } from './product-network.ts';
import { maximizeByRegions } from '../search/search.ts';
import type { Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { Verdict } from '../verdict.ts';
import type { AlignedPair } from './diff/diff-pair.ts';
import { planDifference } from './diff/diff-plan.ts';
import { coverDomain, sampleCoverBox, type DomainCover } from '../search/cover.ts';
import { center, linfQuick, linfScore, OpenBoxes, SKIP_FACTOR, type EquivOptions } from './diff-bab.ts';

export { withPhaseFacts, type BoundsFn, type OutputLinearLower } from '../bounds-fn.ts';
export { checkClass, type ClassResult } from './equiv-class.ts';
export type { EquivOptions } from './diff-bab.ts';

/** The answer to max |f - g| <= epsilon: the verdict, the bound proved, the largest difference found, the boxes. */
export interface LinfResult {
  verdict: Verdict;
  /** proved: max |f - g| <= provedBound over the domain (Infinity if nothing was proved) */
  provedBound: number;
  /** the largest |f - g| seen at a concrete point */
  foundMax: number;
  /** with opts.boxSlack: the largest slack among the boxes the search ended with (a part of provedBound) */
  slack?: number;
  boxes: number;
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

/** The largest |f - g| found at points of the domain so far, and where. */
class LargestDifference {
  max = 0;
  witness: Float64Array | null = null;

  constructor(
    private readonly f: Network,
    private readonly g: Network,
    private readonly cover: DomainCover,
  ) {}

  /** Points of the domain (samples from its boxes; a box centre or a search's end point only if it lies in one). */
  consider(xs: Float64Array, batch: number): void {
    if (batch === 1 && !this.cover.contains(xs)) return;
    const w = worstPoint(this.f, this.g, xs, batch);
    if (w.value > this.max) {
      const n = this.f.inputSize;
      this.max = w.value;
      this.witness = xs.slice(w.index * n, (w.index + 1) * n);
    }
  }

  /** A witness of more than epsilon (epsilon = 0 asks for the bound itself, so nothing is refuted then). */
  refutes(epsilon: number): Float64Array | null {
    return epsilon > 0 && this.max > epsilon ? this.witness : null;
  }
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
  const found = new LargestDifference(f, g, cover);
  const starts = boxes.map((_, i) => {
    const xs = sampleCoverBox(cover, i, opts.samples ?? 512, rng);
    found.consider(xs, opts.samples ?? 512);
    return xs;
  });
  let open: OpenBoxes | null = null;
  const done = (verdict: Verdict, provedBound: number, count: number): LinfResult => ({ verdict, provedBound, foundMax: found.max, boxes: count, slack: opts.boxSlack && open ? open.finalSlack() : undefined });
  const refutation = (count: number): LinfResult | null => {
    const w = found.refutes(epsilon);
    return w ? done(refuted(w, t0, found.max), Infinity, count) : null;
  };
  const early = refutation(0);
  if (early) return early;
  let closedMax = 0;
  open = new OpenBoxes(
    (b, parent) => linfScore(plan, b, opts, parent),
    (v) => !(epsilon > 0 && v <= epsilon),
    (v) => (closedMax = Math.max(closedMax, v)),
    f,
    opts,
    epsilon > 0 && opts.split !== 'trial' && opts.skipFactor !== 0 ? (opts.skipFactor ?? SKIP_FACTOR) * epsilon : Infinity,
    (b, parent, out) => linfQuick(plan, b, opts, parent, out),
  );
  open.addAll(boxes);
  if (epsilon > 0 && open.heap.size === 0) {
    return done({ status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: open.count, bound: closedMax } }, closedMax, open.count);
  }
  // a local search for large differences (a tenth of the time at most) finds larger witnesses than sampling; run
  // once the boxes have not closed in a quarter of the time, or when the search stops: where the bounds close soon
  // it is all the query would cost (MNIST 256x2 in prune's tolerance search: 2.4 s of a 2.5 s query; ACAS Xu
  // property boxes: 2 s of a 2.5 s proof)
  let searched = false;
  const witness = (): LinfResult | null => {
    if (searched) return null;
    searched = true;
    searchDifference(f, g, boxes, starts, Date.now() + Math.min(WITNESS_SHARE * opts.timeoutMs, WITNESS_MAX_MS), (x) => {
      found.consider(x, 1);
      return found.refutes(epsilon) !== null;
    });
    return refutation(open?.count ?? 0);
  };
  return refineLinf(open as OpenBoxes, boxes[0], epsilon, found, t0, () => closedMax, done, refutation, witness, opts.timeoutMs);
}

/** The branch and bound of checkLinf: the worst open box decides the proved bound; stop when it is good enough. */
function refineLinf(
  open: OpenBoxes,
  root: Box,
  epsilon: number,
  found: LargestDifference,
  t0: number,
  closedMax: () => number,
  done: (verdict: Verdict, provedBound: number, count: number) => LinfResult,
  refutation: (count: number) => LinfResult | null,
  witness: () => LinfResult | null,
  timeoutMs: number,
): LinfResult {
  const heap = open.heap;
  while (heap.size > 0) {
    const top = heap.peekKey();
    if (epsilon > 0 ? top <= epsilon : top <= found.max * 1.01 + 1e-9) break;
    let reason = open.stopReason(t0);
    if (reason || Date.now() - t0 > WITNESS_AFTER * timeoutMs) {
      const w = witness();
      if (w) return w;
      // the witness search took time: the clock may have run out meanwhile
      reason = open.stopReason(t0);
    }
    if (reason) {
      const bound = Math.max(closedMax(), top);
      const v: Verdict =
        epsilon > 0
          ? { status: 'unknown', method: 'diff-bab', timeMs: Date.now() - t0, reason, detail: { boxes: open.count, openBound: top } }
          : { status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: open.count, bound, stopped: reason } };
      return done(v, bound, open.count);
    }
    const next = heap.pop()!;
    found.consider(center(next.box), 1);
    const r = refutation(open.count);
    if (r) return r;
    open.split(next, root);
  }
  const bound = Math.max(closedMax(), heap.size ? heap.peekKey() : 0);
  return done({ status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: open.count, bound } }, bound, open.count);
}

/**
 * The share of a query's time the witness search may take (it finds larger differences than sampling), and at most
 * this long: on a long proof (ACAS Xu's whole domain, 300 s) a tenth is time the boxes need.
 */
const WITNESS_SHARE = 0.1;
const WITNESS_AFTER = 0.25;
const WITNESS_MAX_MS = 5000;

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
