/**
 * Equivalence of two networks that share only their inputs and outputs (a network from another tool, a distilled
 * one, any shapes): f and g run side by side as one product network, and the questions become a VNN-LIB-style
 * property of it (decided by the property search: falsification, input splitting or ReLU splitting, MILP) or a
 * maximisation of f_k - g_k. Where g was derived from f, equiv.ts's layer-by-layer difference is tighter; this is
 * for strangers. Every witness is re-checked on f and g themselves, not on the product network.
 */
import { forward, outputSize, type Network } from '../../model/network.ts';
import { samplePoints, type Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { LinearConstraint, VnnProperty } from '../../formats/vnnlib.ts';
import { decideProperty, decidePropertyOnPool, type PropertyOptions, type PropertyResult } from '../property/property.ts';
import { manyInputs } from '../search/split.ts';
import { maximizeLinear, maximizeLinearOnPool, minimizeLinear, minimizeLinearOnPool } from '../property/maximize.ts';
import type { SessionPool } from '../../pool/pool.ts';
import { differenceNetwork, stackedNetwork } from './product-network.ts';
import { worstPoint, type LinfResult } from './equiv.ts';
import type { ClassResult } from './equiv-class.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import { classChanged } from '../tolerance.ts';
import { classByWinners } from './class-relu-split.ts';

export interface ProductEquivOptions {
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  timeoutMs: number;
  seed?: number;
  onProgress?: (phase: string, boxes: number, open: number, leftMs: number) => void;
  /**
   * worker threads for the input-splitting trees' steps (the trees do not depend on how many; they bound with
   * crownBounds there, whatever boundsFn says); none: this thread, with boundsFn
   */
  pool?: SessionPool;
  /**
   * a work limit: input splitting gets INPUT_SPLIT_SHARE of these boxes (as of the time), ReLU splitting and each
   * maximisation all of them; with a generous time limit the answers are then the same on any machine
   */
  maxBoxes?: number;
}

const SAMPLES = 2000;

function unit(len: number, entries: Array<[number, number]>): Float64Array {
  const c = new Float64Array(len);
  for (const [i, v] of entries) c[i] += v;
  return c;
}

/** max over outputs of |f - g| at x, by plain evaluation of each network */
const absDiffAt = (f: Network, g: Network, x: Float64Array): number => worstPoint(f, g, x, 1).value;

/** The largest |f - g| over random points of the boxes, and where. */
function sampledMax(f: Network, g: Network, boxes: Box[], seed: number): { value: number; x: Float64Array } {
  const rng = mulberry32(seed);
  const n = f.inputSize;
  let best = { value: -Infinity, x: new Float64Array(n) };
  for (const box of boxes) {
    const xs = samplePoints(box, SAMPLES, rng);
    const w = worstPoint(f, g, xs, SAMPLES);
    if (w.value > best.value) best = { value: w.value, x: xs.slice(w.index * n, (w.index + 1) * n) };
  }
  return best;
}

/** the share of the time input splitting gets (with few inputs) before ReLU splitting and MILP take over */
const INPUT_SPLIT_SHARE = 0.3;

/**
 * The property decided on the product network. With few inputs, input splitting first: it settles coarse
 * tolerances fast; but f's and g's copies of one hyperplane are relaxed apart, so near it the boxes must shrink to
 * the tolerance's scale (a 3-input test pair: 97,000 boxes, open after 20 s, at 1e-3), where splitting the two
 * neurons' phases settles it (0.5 s). So ReLU splitting and MILP get the rest of the time.
 */
async function decideOnProduct(h: Network, prop: VnnProperty, o: ProductEquivOptions, timeoutMs: number): Promise<PropertyResult> {
  const t0 = Date.now();
  const base: PropertyOptions = { boundsFn: o.boundsFn, outputLinearLower: o.outputLinearLower, timeoutMs, seed: o.seed, onProgress: o.onProgress, ...(o.maxBoxes !== undefined ? { maxBoxes: o.maxBoxes } : {}) };
  if (manyInputs(h.inputSize)) return decideProperty(h, prop, base);
  const split = { ...base, timeoutMs: INPUT_SPLIT_SHARE * timeoutMs, ...(o.maxBoxes !== undefined ? { maxBoxes: Math.ceil(INPUT_SPLIT_SHARE * o.maxBoxes) } : {}) };
  const first = o.pool ? await decidePropertyOnPool(h, prop, split, o.pool) : decideProperty(h, prop, split);
  if (first.result !== 'unknown') return first;
  const second = decideProperty(h, prop, { ...base, timeoutMs: Math.max(1, timeoutMs - (Date.now() - t0)), reluSplitting: true, seed: (o.seed ?? 1) + 1 });
  return { ...second, boxes: first.boxes + second.boxes, timeMs: Date.now() - t0 };
}

/**
 * max |f - g| <= epsilon on every box. epsilon > 0: "some |f_k - g_k| >= epsilon" as a property of f - g, decided.
 * epsilon = 0: no claim to decide; the proved maximum of every +-(f_k - g_k) instead, each with an equal share of
 * the time (the verdict is then "unknown" with the bound: nothing was asked).
 */
export async function checkLinfProduct(f: Network, g: Network, boxes: Box[], epsilon: number, opts: ProductEquivOptions): Promise<LinfResult> {
  const t0 = Date.now();
  const m = outputSize(f);
  const h = differenceNetwork(f, g);
  const found = sampledMax(f, g, boxes, opts.seed ?? 1);
  if (epsilon > 0) {
    if (found.value > epsilon) {
      return { verdict: { status: 'refuted', method: 'product-sampling', timeMs: Date.now() - t0, witness: found.x }, provedBound: Infinity, foundMax: found.value, boxes: 0 };
    }
    const unsafe: LinearConstraint[][] = [];
    for (let k = 0; k < m; k++) {
      unsafe.push([{ coeffs: unit(m, [[k, -1]]), rhs: -epsilon }], [{ coeffs: unit(m, [[k, 1]]), rhs: -epsilon }]);
    }
    const prop: VnnProperty = { nInputs: f.inputSize, nOutputs: m, regions: boxes.map((box) => ({ box, unsafe })) };
    const r = await decideOnProduct(h, prop, opts, Math.max(1, opts.timeoutMs - (Date.now() - t0)));
    return fromProperty(r, t0, found.value, (x) => absDiffAt(f, g, x), epsilon);
  }
  // the bound, output by output and sign by sign
  const last = h.layers.length - 1;
  let bound = 0;
  let best = found.value;
  let boxCount = 0;
  let open = false;
  for (let k = 0; k < m; k++) {
    for (const sign of [1, -1]) {
      const share = Math.max(1, (opts.timeoutMs - (Date.now() - t0)) / (2 * (m - k) - (sign === 1 ? 0 : 1)));
      const c = unit(m, [[k, 1]]);
      const mo = { timeoutMs: share, seed: opts.seed, ...(opts.maxBoxes !== undefined ? { maxBoxes: opts.maxBoxes } : {}) };
      const r = opts.pool
        ? await (sign === 1 ? maximizeLinearOnPool : minimizeLinearOnPool)(h, boxes, last, c, 0, mo, opts.pool)
        : (sign === 1 ? maximizeLinear : minimizeLinear)(h, boxes, last, c, 0, { ...mo, boundsFn: opts.boundsFn });
      bound = Math.max(bound, sign * r.bound);
      best = Math.max(best, absDiffAt(f, g, r.witness));
      boxCount += r.boxes;
      if (r.status !== 'proved') open = true;
    }
  }
  return {
    verdict: { status: 'unknown', method: 'product-maximise', timeMs: Date.now() - t0, reason: open ? 'timeout' : 'no tolerance asked' },
    provedBound: bound,
    foundMax: best,
    boxes: boxCount,
  };
}

function fromProperty(r: PropertyResult, t0: number, foundMax: number, diffAt: (x: Float64Array) => number, epsilon: number): LinfResult {
  const timeMs = Date.now() - t0;
  if (r.result === 'unsat') return { verdict: { status: 'proved', method: 'product-property', timeMs }, provedBound: epsilon, foundMax, boxes: r.boxes };
  if (r.result === 'sat' && r.counterexample) {
    const x = Float64Array.from(r.counterexample.x);
    const v = diffAt(x);
    if (v > epsilon) return { verdict: { status: 'refuted', method: 'product-property', timeMs, witness: x }, provedBound: Infinity, foundMax: Math.max(foundMax, v), boxes: r.boxes };
    return { verdict: { status: 'unknown', method: 'product-property', timeMs, reason: 'the only witness lies on the tolerance itself' }, provedBound: Infinity, foundMax, boxes: r.boxes };
  }
  return { verdict: { status: 'unknown', method: 'product-property', timeMs, reason: r.reason ?? 'unknown' }, provedBound: Infinity, foundMax, boxes: r.boxes };
}

/**
 * Wherever f's winner leads every other output by at least `margin`, g has the same winner. Violation, for outputs
 * i != j: s (f_i - f_l) >= margin for every l != i, and s (g_j - g_i) >= 0 (a tie in g counts against it).
 */
export async function checkClassProduct(
  f: Network,
  g: Network,
  boxes: Box[],
  order: 'argmax' | 'argmin',
  margin: number,
  opts: ProductEquivOptions,
): Promise<ClassResult> {
  const t0 = Date.now();
  const m = outputSize(f);
  const s = order === 'argmax' ? 1 : -1;
  const violates = (x: Float64Array): boolean => classChanged(forward(f, x), forward(g, x), order, margin);
  // many inputs (an MNIST ball): if f's winner is proved unique there, showing g keeps it is far cheaper than the
  // product's disjunction (half the time)
  let product = opts.timeoutMs;
  if (manyInputs(f.inputSize)) {
    const w = classByWinners(f, g, boxes, order, { ...opts, timeoutMs: opts.timeoutMs / 2 });
    if (w.status === 'proved') return { verdict: { status: 'proved', method: 'winner-kept', timeMs: Date.now() - t0, detail: { nodes: w.nodes } }, boxes: 0 };
    if (w.candidate && violates(w.candidate)) return { verdict: { status: 'refuted', method: 'winner-kept', timeMs: Date.now() - t0, witness: w.candidate }, boxes: 0 };
    product = Math.max(1, opts.timeoutMs - (Date.now() - t0));
  }
  const unsafe: LinearConstraint[][] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      const conj: LinearConstraint[] = [];
      // "c . y <= rhs" holds at a violation: -s (f_i - f_l) <= -margin, -s (g_j - g_i) <= 0
      for (let l = 0; l < m; l++) if (l !== i) conj.push({ coeffs: unit(2 * m, [[i, -s], [l, s]]), rhs: -margin });
      conj.push({ coeffs: unit(2 * m, [[m + j, -s], [m + i, s]]), rhs: 0 });
      unsafe.push(conj);
    }
  }
  const prop: VnnProperty = { nInputs: f.inputSize, nOutputs: 2 * m, regions: boxes.map((box) => ({ box, unsafe })) };
  const r = await decideOnProduct(stackedNetwork(f, g), prop, opts, product);
  const timeMs = Date.now() - t0;
  if (r.result === 'unsat') return { verdict: { status: 'proved', method: 'product-property', timeMs }, boxes: r.boxes };
  if (r.result === 'sat' && r.counterexample && violates(Float64Array.from(r.counterexample.x))) {
    return { verdict: { status: 'refuted', method: 'product-property', timeMs, witness: Float64Array.from(r.counterexample.x) }, boxes: r.boxes };
  }
  const reason = r.result === 'sat' ? 'the only witness lies on a tie of the scores' : r.reason ?? 'unknown';
  return { verdict: { status: 'unknown', method: 'product-property', timeMs, reason }, boxes: r.boxes };
}
