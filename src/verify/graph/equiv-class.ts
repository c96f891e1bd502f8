/**
 * Class preservation of two graphs over boxes: wherever f's winner (argmax or argmin) leads every other output by
 * at least `margin`, g's winner is the same output. A violation with f's winner i and g's winner w != i needs
 * s (f_i - f_w) >= margin and s (g_w - g_i) >= 0 (s = +1 for argmax); the pair (i, w) is closed by proving any of
 *   A: s (f_w - f_i) > -margin,   B: s (g_i - g_w) > 0,   C: their sum, s (f_w - f_i + g_i - g_w) > -margin
 * (C holds near f's decision boundaries, where g follows f, and neither A nor B does). All three are linear in the
 * stacked graph's outputs [f; g], so one backward pass bounds every row, with the correlation through the input;
 * the diff method bounds C too (s (d_w - d_i), d = f - g). Open pairs: a descent for a violation, optimised slopes,
 * then ReLU splitting (`prove`) on the best row. A final softmax / log-softmax over all outputs is dropped first
 * (it keeps the winner and only loosens bounds).
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { buildGraph } from '../../model/graph/build.ts';
import { stackedGraph } from '../../model/graph/product.ts';
import { mulberry32 } from '../../model/rng.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { lowerRows } from '../../bounds/graph/backward.ts';
import { graphObjectiveBound } from '../../bounds/graph/objective.ts';
import { BoundRefused, type TensorBounds } from '../../bounds/graph/types.ts';
import { widenLo } from '../../bounds/round.ts';
import { classChanged } from '../tolerance.ts';
import type { Verdict } from '../verdict.ts';
import type { ClassResult } from '../equiv/equiv.ts';
import { alignGraphs } from './diff-align.ts';
import { diffOutput, type EquivPair } from './equiv-bounds.ts';
import { classBrokenAt, descendLinear, pointOf, sampleBox } from './equiv-sample.ts';
import { inBox, proverOf, type GraphEquivOptions } from './equiv-linf.ts';

export interface ClassOptions extends GraphEquivOptions {
  order?: 'argmax' | 'argmin';
  margin?: number;
  /** g's winner must lead by this much more (g's scores known within gSlack / 2: quantize's float32 rounding) */
  gSlack?: number;
}

/** g without a last softmax / log-softmax that normalises its whole output (the winner is the logits' winner). */
export function withoutSoftmax(g: Graph): Graph {
  const last = g.nodes[g.nodes.length - 1];
  if (!last || (last.op !== 'softmax' && last.op !== 'logsoftmax') || last.output !== g.output.name) return g;
  const xs = g.shapes.get(last.inputs[0])!;
  const whole = last.attrs.toEnd ? size(xs.slice(last.attrs.axis)) === size(xs) : xs[last.attrs.axis] === size(xs);
  return whole ? buildGraph(g.input, g.nodes.slice(0, -1), last.inputs[0], 'graph', g.opset) : g;
}

interface Rows {
  /** 3 rows per ordered pair (i, w), i != w: A, B, C over the 2m stacked outputs */
  A: Float64Array;
  rhs: Float64Array;
  pairs: Array<[number, number]>;
}

function classRows(m: number, s: number, margin: number, slack = 0): Rows {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < m; i++) for (let w = 0; w < m; w++) if (i !== w) pairs.push([i, w]);
  const A = new Float64Array(3 * pairs.length * 2 * m);
  const rhs = new Float64Array(3 * pairs.length);
  pairs.forEach(([i, w], p) => {
    const row = (r: number, entries: Array<[number, number]>, b: number): void => {
      for (const [j, v] of entries) A[(3 * p + r) * 2 * m + j] += v;
      rhs[3 * p + r] = b;
    };
    row(0, [[w, s], [i, -s]], -margin);
    row(1, [[m + i, s], [m + w, -s]], slack);
    row(2, [[w, s], [i, -s], [m + i, s], [m + w, -s]], slack - margin);
  });
  return { A, rhs, pairs };
}

type BoxClass = { status: 'proved' | 'refuted' | 'unknown'; x?: Float64Array; reason?: string; open: number };

function classOnBox(p: EquivPair, box: Box, order: 'argmax' | 'argmin', margin: number, o: ClassOptions, deadline: number, rng: () => number): BoxClass {
  const m = size(p.f.output.shape);
  const s = order === 'argmax' ? 1 : -1;
  const smp = sampleBox(p.f, p.g, box, o.samples ?? 256, rng);
  for (let k = 0; k < smp.count; k++) {
    if (classChanged(smp.yf.subarray(k * m, (k + 1) * m), smp.yg.subarray(k * m, (k + 1) * m), order, margin)) {
      const x = pointOf(smp, k);
      if (classBrokenAt(p.f, p.g, x, order, margin)) return { status: 'refuted', x, open: 0 };
    }
  }
  const hb = graphCrownBounds(p.h, box);
  const rows = classRows(m, s, margin, o.gSlack ?? 0);
  const R = rows.rhs.length;
  const low = lowerRows(p.h, hb, p.h.output.name, rows.A, R);
  if (o.method !== 'product') diffRowC(p, hb, rows, low, s);
  const gap = (r: number): number => low[r] - rows.rhs[r];
  const bestRow = (q: number): number => [3 * q, 3 * q + 1, 3 * q + 2].reduce((a, b) => (gap(b) > gap(a) ? b : a));
  let open = rows.pairs.map((_, q) => q).filter((q) => gap(bestRow(q)) <= 0);
  const rowOf = (r: number): Float64Array => rows.A.slice(r * 2 * m, (r + 1) * 2 * m);
  for (const q of open) {
    if ((o.steps ?? 20) <= 0 || Date.now() > deadline) break;
    const x = descendLinear(p.h, box, rowOf(3 * q + 2), [pointOf(smp, 0)], o.steps ?? 20);
    if (classBrokenAt(p.f, p.g, x, order, margin)) return { status: 'refuted', x, open: open.length };
  }
  if (o.method !== 'diff') {
    for (const q of open) {
      if (Date.now() > deadline) break;
      for (const r of [3 * q, 3 * q + 1, 3 * q + 2]) low[r] = Math.max(low[r], graphObjectiveBound(p.h, box, { node: p.h.output.name, coeffs: rowOf(r) }, { bounds: hb, alpha: true }));
    }
    open = open.filter((q) => gap(bestRow(q)) <= 0);
  }
  return splitPairs(p, box, order, margin, o, deadline, open, (q) => ({ coeffs: rowOf(bestRow(q)), rhs: rows.rhs[bestRow(q)] }), hb);
}

/** Row C from the diff method's output bounds, where it applies: s (d_w - d_i) >= its lower bound. */
function diffRowC(p: EquivPair, hb: TensorBounds, rows: Rows, low: Float64Array, s: number): void {
  const d = diffOutput(p, hb);
  if (typeof d === 'string') return;
  rows.pairs.forEach(([i, w], q) => {
    const v = s > 0 ? d.lo[w] - d.hi[i] : d.lo[i] - d.hi[w];
    low[3 * q + 2] = Math.max(low[3 * q + 2], widenLo(v, Math.abs(d.lo[w]) + Math.abs(d.hi[i]) + Math.abs(d.lo[i]) + Math.abs(d.hi[w])));
  });
}

function splitPairs(p: EquivPair, box: Box, order: 'argmax' | 'argmin', margin: number, o: ClassOptions, deadline: number, open: number[], goal: (q: number) => { coeffs: Float64Array; rhs: number }, hb: TensorBounds): BoxClass {
  if (open.length === 0) return { status: 'proved', open: 0 };
  const prove = proverOf(o);
  if (!prove) return { status: 'unknown', reason: 'the bounds leave it open (no ReLU splitting given)', open: open.length };
  let left = 0;
  let reason = 'unknown';
  for (const [k, q] of open.entries()) {
    const now = Date.now();
    if (now > deadline) return { status: 'unknown', reason: 'timeout', open: open.length - k + left };
    const r = prove(p.h, box, goal(q), { deadline: now + (deadline - now) / (open.length - k), alpha: true, bounds: hb, maxNodes: o.maxNodes });
    if (r.status === 'proved') continue;
    left++;
    if (r.status === 'falsified' && r.x && inBox(box, r.x) && classBrokenAt(p.f, p.g, r.x, order, margin)) return { status: 'refuted', x: r.x, open: left };
    reason = r.reason ?? (r.status === 'falsified' ? 'a row fails where the class is kept' : 'unknown');
  }
  return left === 0 ? { status: 'proved', open: 0 } : { status: 'unknown', reason, open: left };
}

/** Proves that g keeps f's class on every box (where f leads by at least margin), or refutes it. */
export function checkGraphClass(f0: Graph, g0: Graph, boxes: Box[], opts: ClassOptions): ClassResult {
  const t0 = Date.now();
  const f = withoutSoftmax(f0);
  const g = withoutSoftmax(g0);
  const order = opts.order ?? 'argmax';
  const margin = opts.margin ?? 0;
  const p: EquivPair = { f, g, h: stackedGraph(f, g), align: alignGraphs(f, g) };
  const rng = mulberry32(opts.seed ?? 1);
  let reason: string | undefined;
  let open = 0;
  const method = `graph-class-${opts.method ?? 'auto'}`;
  const dropped = f !== f0 || g !== g0 ? { softmaxDropped: true } : {};
  for (const [i, box] of boxes.entries()) {
    const deadline = t0 + ((i + 1) * opts.timeoutMs) / boxes.length;
    let r: BoxClass;
    try {
      r = classOnBox(p, box, order, margin, opts, deadline, rng);
    } catch (e) {
      if (!(e instanceof BoundRefused)) throw e;
      reason = `bound refused: ${e.message}`;
      continue;
    }
    if (r.status === 'refuted') return { verdict: { status: 'refuted', method, timeMs: Date.now() - t0, witness: r.x!, detail: { ...dropped } }, boxes: i + 1 };
    open += r.open;
    if (r.status === 'unknown') reason ??= r.reason ?? 'unknown';
  }
  const timeMs = Date.now() - t0;
  const verdict: Verdict = reason ? { status: 'unknown', method, timeMs, reason, detail: { openPairs: open, ...dropped } } : { status: 'proved', method, timeMs, detail: { ...dropped } };
  return { verdict, boxes: boxes.length };
}
