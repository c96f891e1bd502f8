/**
 * The class question on the difference bounds: wherever f's winning output (argmin or argmax) leads every other one
 * by at least `margin`, g's winner is the same output. Input-splitting branch and bound on a box's openness (how far
 * the least-refuted way of breaking the claim is from infeasible); with many inputs, where input splitting gives up,
 * ReLU splitting on g alone when f's winner is proved unique (class-relu-split.ts). Witnesses are re-checked by
 * plain evaluation of both networks.
 */
import { forward, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { Verdict } from '../verdict.ts';
import type { AlignedPair } from './diff/diff-pair.ts';
import { planDifference, type DiffPlan } from './diff/diff-plan.ts';
import { manyInputs } from '../search/split.ts';
import { coverDomain, sampleCoverBox, type DomainCover } from '../search/cover.ts';
import { gKeepsWinner, provedUniqueWinner } from './class-relu-split.ts';
import { boxDiff, center, OpenBoxes, type EquivOptions } from './diff-bab.ts';

/** The answer to "the same winning class": the verdict and the boxes. */
export interface ClassResult {
  verdict: Verdict;
  boxes: number;
}

/** The question: which order, what margin, scores sigma * y (sigma -1 for argmax). */
interface ClassQuestion {
  f: Network;
  g: Network;
  order: 'argmax' | 'argmin';
  sigma: number;
  margin: number;
  /** outputs */
  m: number;
}

/**
 * Proves that wherever f's winning output (argmin or argmax) beats every other output by at least `margin`,
 * g's winner is the same output. Violation (what we show impossible), for outputs m != i with scores sigma * y:
 * sigma (f_i - f_m) + margin <= 0 and sigma (g_m - g_j) <= 0 for all j != m.
 */
export function checkClass(pair: AlignedPair, domain: Box[], order: 'argmax' | 'argmin', margin: number, opts: EquivOptions): ClassResult {
  const t0 = Date.now();
  // very many boxes: proved on hulls of groups of them (cover.ts); witnesses only from the domain itself
  const cover = coverDomain(domain);
  const boxes = cover.boxes;
  const plan = planDifference(pair);
  const { f, g } = pair;
  const q: ClassQuestion = { f, g, order, sigma: order === 'argmin' ? 1 : -1, margin, m: f.layers[f.layers.length - 1].outSize };
  const n = f.inputSize;
  const rng = mulberry32(opts.seed ?? 1);
  for (const [i] of boxes.entries()) {
    const xs = sampleCoverBox(cover, i, opts.samples ?? 512, rng);
    const s = violationAt(q, xs, opts.samples ?? 512);
    if (s >= 0) return { verdict: classWitness(xs.slice(s * n, (s + 1) * n), t0), boxes: 0 };
  }
  const open = new OpenBoxes((box) => ({ value: openness(q, plan, box, opts), dim: -1 }), (v) => v >= 0, () => {}, f, opts);
  open.addAll(boxes);
  const heap = open.heap;
  while (heap.size > 0) {
    const reason = open.stopReason(t0);
    if (reason) return stoppedClass(q, cover, open, reason, t0, opts);
    const top = heap.pop()!;
    const c = center(top.box);
    if (cover.contains(c) && violationAt(q, c, 1) >= 0) return { verdict: classWitness(c, t0), boxes: open.count };
    open.split(top, boxes[0]);
  }
  return { verdict: { status: 'proved', method: 'diff-bab', timeMs: Date.now() - t0, detail: { boxes: open.count } }, boxes: open.count };
}

/**
 * The branch and bound stopped open. Many inputs: input splitting stops after a few boxes; with f's winner proved
 * unique, ReLU splitting on g alone may still show g keeps it (MNIST 256x2 prop_2_0.03, one neuron removed: 6 ms
 * where input splitting gives up); else unknown.
 */
function stoppedClass(q: ClassQuestion, cover: DomainCover, open: OpenBoxes, reason: string, t0: number, opts: EquivOptions): ClassResult {
  const count = open.count;
  const winner = provedUniqueWinner(opts.fLower, q.m);
  if (count >= open.maxBoxes && manyInputs(q.f.inputSize) && winner >= 0) {
    const r = gKeepsWinner(q.g, cover.boxes, winner, q.order, opts.gSlack ?? 0, opts.boundsFn, t0 + opts.timeoutMs, opts.maxNodes);
    if (r.status === 'proved') return { verdict: { status: 'proved', method: 'relu-split', timeMs: Date.now() - t0, detail: { boxes: count, nodes: r.nodes } }, boxes: count };
    if (r.candidate && cover.contains(r.candidate) && violationAt(q, r.candidate, 1) >= 0) return { verdict: classWitness(r.candidate, t0), boxes: count };
  }
  return { verdict: { status: 'unknown', method: 'diff-bab', timeMs: Date.now() - t0, reason, detail: { boxes: count } }, boxes: count };
}

/** The first point of the batch where f leads by the margin and g's winner differs, or -1. */
function violationAt(q: ClassQuestion, xs: Float64Array, batch: number): number {
  const { sigma, m, margin } = q;
  const yf = forward(q.f, xs, batch);
  const yg = forward(q.g, xs, batch);
  for (let s = 0; s < batch; s++) {
    let w = 0;
    for (let j = 1; j < m; j++) if (sigma * yg[s * m + j] < sigma * yg[s * m + w]) w = j;
    for (let i = 0; i < m; i++) {
      if (i !== w && sigma * (yf[s * m + i] - yf[s * m + w]) + margin <= 0) return s;
    }
  }
  return -1;
}

/** Lower bounds of sigma (f_a - f_b) on the box, at index a * m + b: from the output bounds, or proved margins. */
function fLeads(q: ClassQuestion, box: Box, fb: NetworkBounds, opts: EquivOptions): Float64Array {
  const { sigma, m } = q;
  const last = fb[fb.length - 1];
  const lowerDiff = (a: number, b: number): number => {
    if (opts.outputLinearLower) {
      const c = new Float64Array(m);
      c[a] = sigma;
      c[b] = -sigma;
      return opts.outputLinearLower(q.f, box, fb, c);
    }
    return sigma > 0 ? last.lo[a] - last.hi[b] : last.lo[b] - last.hi[a];
  };
  const L = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) if (a !== b) L[a * m + b] = Math.max(lowerDiff(a, b), opts.fLower?.[a * m + b] ?? -Infinity);
  }
  return L;
}

/** A box's openness: how far the least-refuted way of breaking the claim is from being infeasible (< 0: closed). */
function openness(q: ClassQuestion, plan: DiffPlan, box: Box, opts: EquivOptions): number {
  const { sigma, m, margin } = q;
  const { d, fb } = boxDiff(plan, box, opts);
  const k = d.lo.length - 1;
  const dl = d.lo[k];
  const dh = d.hi[k];
  const L = fLeads(q, box, fb, opts);
  const gSlack = opts.gSlack ?? 0;
  let worst = -Infinity;
  for (let w = 0; w < m; w++) {
    // can g's winner be w? needs sigma (g_w - g_j) <= 0 for all j: infeasible if some lower bound > 0
    let gBlocked = -Infinity;
    for (let j = 0; j < m; j++) {
      if (j === w) continue;
      const dd = sigma > 0 ? dl[w] - dh[j] : dl[j] - dh[w];
      gBlocked = Math.max(gBlocked, L[w * m + j] + dd - gSlack);
    }
    for (let i = 0; i < m; i++) {
      if (i === w) continue;
      const fBlocked = L[i * m + w] + margin;
      // the sum of sigma (f_i - f_w) + margin <= 0 and sigma (g_w - g_i) <= 0 is margin + sigma (D_w - D_i) <= 0:
      // near f's decision boundaries the two only contradict each other jointly
      const dd = sigma > 0 ? dl[w] - dh[i] : dl[i] - dh[w];
      const jointBlocked = margin + dd - gSlack;
      worst = Math.max(worst, -Math.max(gBlocked, fBlocked, jointBlocked));
    }
  }
  return worst;
}

function classWitness(x: Float64Array, t0: number): Verdict {
  return { status: 'refuted', method: 'sampling', timeMs: Date.now() - t0, witness: x };
}
