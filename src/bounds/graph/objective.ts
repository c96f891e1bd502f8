/**
 * A sound lower bound of one linear function c . t of one tensor t over the box, from CROWN's intermediate bounds,
 * optionally with optimised ReLU lower slopes (alpha). The slopes' gradient (as src/bounds/alpha.ts does on chains):
 * one backward pass gives the bound and the coefficient a_j met at each ReLU-like output; one forward pass of the
 * relaxed graph (each rule's chosen lines) from the box corner that minimises the final linear function gives the
 * relaxed input x_j; d bound / d slope_j = a_j x_j where the lower line was used. Projected Adam steps keep every
 * slope in [0, 1], where every slope is sound: optimising changes tightness only, and the best iterate is returned.
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { TensorBounds } from './types.ts';
import { ruleOf } from './registry.ts';
import { graphCrownBounds, type CrownOptions } from './crown.ts';
import { viewOf } from './interval.ts';
import { lowerRows, newRecord, type BackRecord } from './backward.ts';
import { runForward } from './util.ts';

export interface Objective {
  /** the tensor (a node's output name, or a node's name) */
  node: string;
  /** one coefficient per element of the tensor */
  coeffs: Float64Array;
}

export interface ObjectiveOptions extends CrownOptions {
  /** intermediate bounds to use (default: a CROWN pass) */
  bounds?: TensorBounds;
  /** optimise ReLU slopes: true or the steps (default off) */
  alpha?: boolean | { iterations?: number; step?: number };
}

function tensorOf(g: Graph, name: string): string {
  if (g.shapes.has(name)) return name;
  const n = g.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`internal: no tensor or node named '${name}'`);
  return n.output;
}

export function graphObjectiveBound(g: Graph, box: Box, obj: Objective, opts: ObjectiveOptions = {}): number {
  const t = tensorOf(g, obj.node);
  if (obj.coeffs.length !== g.shapes.get(t)!.reduce((a, c) => a * c, 1)) throw new Error(`internal: ${obj.coeffs.length} coefficients for tensor '${t}'`);
  const b = opts.bounds ?? graphCrownBounds(g, box, opts);
  if (!opts.alpha) return lowerRows(g, b, t, obj.coeffs, 1, opts.slopes)[0];
  const a = opts.alpha === true ? {} : opts.alpha;
  return optimiseSlopes(g, b, t, obj.coeffs, a.iterations ?? 10, a.step ?? 0.25);
}

interface Adam {
  m: Float64Array;
  v: Float64Array;
}

function optimiseSlopes(g: Graph, b: TensorBounds, t: string, c: Float64Array, iters: number, lr: number): number {
  const last = g.nodes.findIndex((n) => n.output === t);
  const slopes = new Map<string, Float64Array>();
  const adam = new Map<string, Adam>();
  for (const n of g.nodes.slice(0, last + 1)) {
    const init = ruleOf(n.op).initialSlopes?.(viewOf(g, b, n));
    if (init) {
      slopes.set(n.name, init);
      adam.set(n.name, { m: new Float64Array(init.length), v: new Float64Array(init.length) });
    }
  }
  let best = -Infinity;
  for (let it = 1; it <= Math.max(1, iters); it++) {
    const rec = newRecord();
    best = Math.max(best, lowerRows(g, b, t, c, 1, slopes, rec)[0]);
    if (slopes.size === 0 || it === iters) break;
    const vals = relaxedValues(g, last, rec);
    for (const [name, s] of slopes) step(g, b, name, s, adam.get(name)!, rec, vals, it, lr);
  }
  return best;
}

/** The relaxed graph's value of every visited tensor at the minimising corner. */
function relaxedValues(g: Graph, last: number, rec: BackRecord): Map<string, Float64Array> {
  const vals = new Map<string, Float64Array>([[g.input.name, rec.xStar!]]);
  for (const n of g.nodes.slice(0, last + 1)) {
    if (!rec.A.has(n.name)) continue;
    const ins = n.inputs.map((x) => vals.get(x));
    const f = rec.relaxed.get(n.name);
    vals.set(n.output, f ? f(ins) : runForward(n, ins as Float64Array[], n.inputs.map((x) => g.shapes.get(x)!), g.shapes.get(n.output)!));
  }
  return vals;
}

function step(g: Graph, b: TensorBounds, name: string, s: Float64Array, ad: Adam, rec: BackRecord, vals: Map<string, Float64Array>, it: number, lr: number): void {
  const n = g.nodes.find((x) => x.name === name) as GraphNode;
  const A = rec.A.get(name);
  const x = vals.get(n.inputs[0]);
  if (!A || !x) return;
  const { lo, hi } = b.get(n.inputs[0])!;
  const c1 = 1 - 0.9 ** it;
  const c2 = 1 - 0.999 ** it;
  for (let j = 0; j < s.length; j++) {
    if (!(lo[j] < 0 && hi[j] > 0) || A[j] < 0) continue;
    const gr = A[j] * x[j];
    ad.m[j] = 0.9 * ad.m[j] + 0.1 * gr;
    ad.v[j] = 0.999 * ad.v[j] + 0.001 * gr * gr;
    s[j] = Math.min(1, Math.max(0, s[j] + (lr * ad.m[j]) / c1 / (Math.sqrt(ad.v[j] / c2) + 1e-12)));
  }
}
