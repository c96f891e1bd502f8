/**
 * `nnshrink bounds` as calls: {@link bounds} (sound bounds of every neuron, or of a graph's outputs and activation
 * inputs, hulled over the domain's boxes), {@link optimize} (the maximum or minimum of a linear function of one
 * layer, to a precision) and {@link neuronPhase} (one neuron's phase). Each is async, takes an AbortSignal and a
 * progress callback, and is what the command prints.
 */
import { fail, fmt } from '../errors.ts';
import type { Network } from '../model/network.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import type { LayerBounds, NetworkBounds } from '../bounds/types.ts';
import { intervalBounds } from '../bounds/interval.ts';
import { symbolicBounds } from '../bounds/symbolic.ts';
import { crownBounds } from '../bounds/backward.ts';
import { alphaCrownBounds } from '../bounds/alpha.ts';
import { withPool } from '../pool/pool.ts';
import { manyInputs } from '../verify/search/split.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { maximizeLinearOnPool, minimizeLinearOnPool, neuronPhase as phaseSearch, type MaximizeResult, type NeuronPhaseAnswer } from '../verify/property/maximize.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';
import { graphBoundsOver, type GraphBounds } from './bounds-graph.ts';
import type { SearchOptions } from './search.ts';

/** The bounding methods of {@link bounds}, loosest and cheapest first (a graph has no 'symbolic'). */
export type BoundsMethod = 'interval' | 'symbolic' | 'crown' | 'alpha';

/** The options of {@link bounds}. */
export interface BoundsOptions extends RunOptions {
  /** default 'crown' (what the verifiers use); 'alpha': CROWN, then slopes optimised for each neuron (graphs: each output) */
  method?: BoundsMethod;
  /** what messages call the model (default `the graph`) */
  name?: string;
}

/** A chain's bounds: per layer (the last: the outputs) the hull of its pre-activations' bounds over the boxes. */
export interface ChainBounds {
  kind: 'chain';
  method: BoundsMethod;
  layers: NetworkBounds;
  timeMs: number;
}

export type { GraphBounds, GraphMethod, ActivationBounds } from './bounds-graph.ts';

const isGraph = (m: Network | Graph): m is Graph => 'nodes' in m;
const boxesOf = (domain: Box | Box[]): Box[] => (Array.isArray(domain) ? domain : [domain]);

function chainFn(method: string): (net: Network, box: Box) => NetworkBounds {
  if (method === 'interval') return intervalBounds;
  if (method === 'symbolic') return symbolicBounds;
  if (method === 'crown') return crownBounds;
  if (method === 'alpha') return (net, box) => alphaCrownBounds(net, box, crownBounds(net, box));
  fail(`--method: '${method}' (expected interval, symbolic, crown or alpha)`);
}

/** Widens `h` (per layer, per neuron) to hold `b`. */
function widenLayers(h: NetworkBounds | undefined, b: NetworkBounds): NetworkBounds {
  if (!h) return b.map((L): LayerBounds => ({ lo: Float64Array.from(L.lo), hi: Float64Array.from(L.hi) }));
  h.forEach((L, k) => {
    for (let i = 0; i < L.lo.length; i++) {
      if (b[k].lo[i] < L.lo[i]) L.lo[i] = b[k].lo[i];
      if (b[k].hi[i] > L.hi[i]) L.hi[i] = b[k].hi[i];
    }
  });
  return h;
}

/**
 * Sound bounds over the domain (one box or several: their hull), widened outward, as `nnshrink bounds` prints them:
 * of a chain, every neuron's pre-activation per layer; of a graph, its outputs and a per-node summary of every
 * ReLU-like node's input (proved never / always active, unstable).
 * @throws NnsError `not-proved` when a graph's bound is refused (a divisor whose interval holds 0); `aborted`
 */
export async function bounds(model: Network, domain: Box | Box[], opts?: BoundsOptions): Promise<ChainBounds>;
export async function bounds(model: Graph, domain: Box | Box[], opts?: BoundsOptions): Promise<GraphBounds>;
export async function bounds(model: Network | Graph, domain: Box | Box[], opts: BoundsOptions = {}): Promise<ChainBounds | GraphBounds> {
  const boxes = boxesOf(domain);
  if (isGraph(model)) return graphBoundsOver(model, boxes, opts);
  const method = opts.method ?? 'crown';
  const fn = chainFn(method);
  const report = reporter(opts);
  const t0 = Date.now();
  let hull: NetworkBounds | undefined;
  for (let k = 0; k < boxes.length; k++) {
    report({ stage: `${method} bounds`, done: k, total: boxes.length });
    // a box is a few milliseconds of work: a timer's abort is seen between two
    await checkpoint(opts.signal);
    hull = widenLayers(hull, fn(model, boxes[k]));
  }
  if (!hull) fail('bounds: the domain has no box');
  return { kind: 'chain', method, layers: hull, timeMs: Date.now() - t0 };
}

/**
 * A linear function of one layer's pre-activations (layers from 0; the last layer: the outputs), maximised or
 * minimised: one neuron (`index`) or a coefficient per neuron of the layer.
 */
export type Objective = { sense: 'max' | 'min'; layer: number } & ({ index: number } | { coefficients: Float64Array | readonly number[] });

/** The options of {@link optimize}: when to stop, besides the time limit (default 60 s: then `unknown`). */
export interface OptimizeOptions extends SearchOptions {
  /** stop once the gap is at most max(precision, relativePrecision x |value|) (defaults 1e-3 and 1e-3) */
  precision?: number;
  relativePrecision?: number;
}

/** The layer (from 0) checked against the network: a one-line error naming it from 1, as the command counts. */
function checkedLayer(net: Network, layer: number, flag: string): number {
  if (!(Number.isInteger(layer) && layer >= 0 && layer < net.layers.length)) fail(`--${flag}: layer ${layer + 1} does not exist (the network has layers 1 to ${net.layers.length})`);
  return layer;
}

function checkedIndex(net: Network, layer: number, index: number, flag: string): number {
  const width = net.layers[layer].outSize;
  if (!(Number.isInteger(index) && index >= 0 && index < width)) fail(`--${flag}: neuron '${index}' of layer ${layer + 1} (expected 0 to ${width - 1})`);
  return index;
}

/** The objective's coefficient vector over its layer's neurons, checked against the network. */
export function objectiveVector(net: Network, o: Objective): Float64Array {
  const layer = checkedLayer(net, o.layer, o.sense);
  const width = net.layers[layer].outSize;
  if ('index' in o) {
    const c = new Float64Array(width);
    c[checkedIndex(net, layer, o.index, o.sense)] = 1;
    return c;
  }
  const c = Float64Array.from(o.coefficients);
  if (c.length !== width) fail(`--${o.sense}: ${c.length} coefficients for layer ${layer + 1}, which has ${width} neurons`);
  if (!c.every(Number.isFinite)) fail(`--${o.sense}: a coefficient is not a finite number`);
  return c;
}

const treePool = <R>(net: Network, workers: number | undefined, run: Parameters<typeof withPool<R>>[1]): Promise<R> =>
  withPool(manyInputs(net.inputSize) ? 1 : Math.max(1, Math.floor(workers ?? 1)), run);

/**
 * The maximum (or minimum) of a linear function of one layer over the domain, enclosed: `value` at a witness input
 * (plain evaluation) and a proved `bound` on the other side; `status` proved once the gap is within the precision,
 * else unknown (the time limit, a memory or work limit) with the enclosure so far. `nnshrink bounds --max / --min`.
 */
export async function optimize(net: Network, domain: Box | Box[], objective: Objective, opts: OptimizeOptions = {}): Promise<MaximizeResult> {
  const flag = objective.sense;
  const c = objectiveVector(net, objective);
  const report = reporter(opts);
  const stage = `${flag}imising`;
  const o = {
    timeoutMs: opts.timeoutMs ?? 60_000,
    precision: opts.precision ?? 1e-3,
    relativePrecision: opts.relativePrecision ?? 1e-3,
    onProgress: (v: number, b: number, boxes: number, open: number) => report({ stage, done: boxes, total: 0, detail: `in [${fmt(Math.min(v, b))}, ${fmt(Math.max(v, b))}], ${boxes} boxes, ${open} open` }),
  };
  await loadMilpSolver();
  await checkpoint(opts.signal);
  const r = await treePool(net, opts.workers, (pool) => (flag === 'max' ? maximizeLinearOnPool : minimizeLinearOnPool)(net, boxesOf(domain), objective.layer, c, 0, o, pool));
  await checkpoint(opts.signal);
  return r;
}

/**
 * One hidden neuron's phase over the domain (layer and index from 0): never or always active (proved, with the bound
 * that proves it), both (two witnesses evaluated), or unknown within the time limit (default 60 s), with the proved
 * range of its pre-activation. `nnshrink bounds --phase`.
 */
export async function neuronPhase(net: Network, domain: Box | Box[], neuron: { layer: number; index: number }, opts: SearchOptions = {}): Promise<NeuronPhaseAnswer> {
  const layer = checkedLayer(net, neuron.layer, 'phase');
  if (layer === net.layers.length - 1) fail(`--phase: layer ${layer + 1} is the output layer (no ReLU); use --max / --min`);
  checkedIndex(net, layer, neuron.index, 'phase');
  const report = reporter(opts);
  const onProgress = (_v: number, _b: number, boxes: number, open: number): void => report({ stage: 'deciding the phase', done: boxes, total: 0, detail: `${boxes} boxes, ${open} open` });
  await loadMilpSolver();
  await checkpoint(opts.signal);
  const r = await treePool(net, opts.workers, (pool) => phaseSearch(net, boxesOf(domain), layer, neuron.index, { timeoutMs: opts.timeoutMs ?? 60_000, onProgress }, pool));
  await checkpoint(opts.signal);
  return r;
}
