/**
 * {@link bounds} of a graph network: sound bounds of the output and of every ReLU-like node's input over the domain
 * (interval, CROWN, or CROWN with optimised slopes for each output), hulled over the boxes and summarised per
 * activation node.
 */
import { fail, NnsError } from '../errors.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import { size } from '../model/graph/shape.ts';
import { BoundRefused, type Itv, type TensorBounds } from '../bounds/graph/types.ts';
import { graphIntervalBounds } from '../bounds/graph/interval.ts';
import { graphCrownBounds } from '../bounds/graph/crown.ts';
import { graphObjectiveBound } from '../bounds/graph/objective.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';

/** A graph's bounding methods: forward symbolic bounds are a chain engine only. */
export type GraphMethod = 'interval' | 'crown' | 'alpha';

/** One ReLU-like node's input (its pre-activation) over the domain. */
export interface ActivationBounds {
  node: string;
  op: string;
  /** its input's (pre-activation) shape */
  shape: readonly number[];
  neurons: number;
  /** proved below the kink (a ReLU never active), above it, neither */
  inactive: number;
  active: number;
  unstable: number;
  /** channels (axis 0) with an unstable element */
  unstableChannels: number;
  channels: number;
  meanWidth: number;
}

/** A graph's bounds: its output's hull over the boxes, and each activation node's summary. */
export interface GraphBounds {
  kind: 'graph';
  method: GraphMethod;
  boxes: number;
  output: { name: string; shape: readonly number[]; lo: Float64Array; hi: Float64Array };
  activations: ActivationBounds[];
  timeMs: number;
}

function graphMethod(v: unknown, name: string): GraphMethod {
  const m = v === undefined ? 'crown' : String(v);
  if (m === 'interval' || m === 'crown' || m === 'alpha') return m;
  if (m === 'symbolic') fail(`--method symbolic: forward symbolic bounds are for fully-connected chains, and ${name} is a graph network (use interval, crown or alpha)`);
  fail(`--method: '${m}' (expected interval, crown or alpha)`);
}

/** The point where a ReLU-like node's input changes phase (clip: its lower bound, else its upper one), as the census takes it. */
function kinkOf(node: Graph['nodes'][number]): number | undefined {
  if (node.op === 'relu' || node.op === 'leakyrelu' || node.op === 'prelu') return 0;
  if (node.op !== 'clip') return undefined;
  const k = Number.isFinite(node.attrs.min) ? node.attrs.min : node.attrs.max;
  return Number.isFinite(k) ? k : undefined;
}

/** Per-element hull of the tensors we report, over the domain's boxes. */
interface Hull {
  lo: Float64Array;
  hi: Float64Array;
}

function widen(h: Hull | undefined, x: Itv): Hull {
  if (!h) return { lo: Float64Array.from(x.lo), hi: Float64Array.from(x.hi) };
  for (let i = 0; i < h.lo.length; i++) {
    if (x.lo[i] < h.lo[i]) h.lo[i] = x.lo[i];
    if (x.hi[i] > h.hi[i]) h.hi[i] = x.hi[i];
  }
  return h;
}

/** CROWN, then each output element's lower and upper bound by optimised slopes (kept where tighter). */
function alphaOutputs(g: Graph, box: Box, b: TensorBounds): void {
  const out = b.get(g.output.name)!;
  const n = out.lo.length;
  const lo = Float64Array.from(out.lo);
  const hi = Float64Array.from(out.hi);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = 1;
    lo[i] = Math.max(lo[i], graphObjectiveBound(g, box, { node: g.output.name, coeffs: c }, { bounds: b, alpha: true }));
    c[i] = -1;
    hi[i] = Math.min(hi[i], -graphObjectiveBound(g, box, { node: g.output.name, coeffs: c }, { bounds: b, alpha: true }));
    c[i] = 0;
  }
  b.set(g.output.name, { lo, hi, mag: out.mag });
}

function boundsOn(g: Graph, box: Box, method: GraphMethod): TensorBounds {
  if (method === 'interval') return graphIntervalBounds(g, box);
  const b = graphCrownBounds(g, box);
  if (method === 'alpha') alphaOutputs(g, box, b);
  return b;
}

/** Channels of a tensor as `info` counts them: axis 0 of a [C, H, W] tensor; each element of a vector. */
const channelsOf = (s: readonly number[]): number => (s.length >= 2 ? s[0] : size(s));

function summarise(g: Graph, hulls: Map<string, Hull>): ActivationBounds[] {
  const out: ActivationBounds[] = [];
  for (const n of g.nodes) {
    const kink = kinkOf(n);
    if (kink === undefined) continue;
    const shape = g.shapes.get(n.inputs[0])!;
    const h = hulls.get(n.inputs[0])!;
    const channels = channelsOf(shape);
    const per = size(shape) / channels;
    const openChannel = new Uint8Array(channels);
    let inactive = 0;
    let active = 0;
    let width = 0;
    for (let i = 0; i < h.lo.length; i++) {
      width += h.hi[i] - h.lo[i];
      if (h.hi[i] <= kink) inactive++;
      else if (h.lo[i] >= kink) active++;
      else openChannel[Math.floor(i / per)] = 1;
    }
    const unstable = h.lo.length - inactive - active;
    out.push({ node: n.name, op: n.op, shape, neurons: h.lo.length, inactive, active, unstable, unstableChannels: openChannel.reduce((a, v) => a + v, 0), channels, meanWidth: width / h.lo.length });
  }
  return out;
}

/** The bounds of every box, hulled; a bound a rule refuses (a divisor's interval containing 0) ends it `not-proved`. */
export async function graphBoundsOver(g: Graph, domain: Box[], opts: RunOptions & { method?: string; name?: string }): Promise<GraphBounds> {
  const name = opts.name ?? 'the graph';
  const method = graphMethod(opts.method, name);
  const wanted = new Set([g.output.name, ...g.nodes.filter((n) => kinkOf(n) !== undefined).map((n) => n.inputs[0])]);
  const hulls = new Map<string, Hull>();
  const report = reporter(opts);
  const t0 = Date.now();
  for (let k = 0; k < domain.length; k++) {
    report({ stage: `${method} bounds`, done: k, total: domain.length, ...(domain.length > 1 ? { detail: `box ${k + 1}` } : {}) });
    await checkpoint(opts.signal);
    let b: TensorBounds;
    try {
      b = boundsOn(g, domain[k], method);
    } catch (e) {
      if (!(e instanceof BoundRefused)) throw e;
      throw new NnsError(`${name}: no bounds${domain.length > 1 ? ` on box ${k + 1}` : ''}: ${e.message}`, { code: 'not-proved' });
    }
    for (const t of wanted) hulls.set(t, widen(hulls.get(t), b.get(t)!));
  }
  const outs = hulls.get(g.output.name)!;
  return { kind: 'graph', method, boxes: domain.length, output: { name: g.output.name, shape: g.output.shape, lo: outs.lo, hi: outs.hi }, activations: summarise(g, hulls), timeMs: Date.now() - t0 };
}
