/**
 * The library's verify and equiv: async entry points with an options object that load the MILP solver, start and
 * end worker threads and pick the method the CLI picks, so a program does not repeat what the commands do (bounds
 * and census: bounds.ts, census.ts).
 */
import type { Network } from '../model/network.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import { checkGraphPropertyFits, checkPropertyFits, readVnnlib, type VnnProperty } from '../formats/vnnlib.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { withPool, type WorkerPool } from '../pool/pool.ts';
import { manyInputs } from '../verify/search/split.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { decidePropertyOnPool, type PropertyResult } from '../verify/property/property.ts';
import { decideGraph } from '../verify/property/instance.ts';
import { alignedPair } from '../verify/equiv/diff/diff-pair.ts';
import { checkClass, checkLinf, type ClassResult, type LinfResult } from '../verify/equiv/equiv.ts';
import { checkClassProduct, checkLinfProduct } from '../verify/equiv/equiv-product.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';
import { equivGraphPair, type GraphAnswer } from './equiv-graph.ts';
import { chainAsGraph } from '../model/graph/from-chain.ts';

/** How long a search may take and how many worker threads it may use; its signal and progress callback. */
export interface SearchOptions extends RunOptions {
  /** the time limit in milliseconds (default 60,000); reaching it answers "unknown", never "proved" */
  timeoutMs?: number;
  /** worker threads for the input-splitting trees (default 1: this thread); the answer does not depend on it */
  workers?: number;
}

const isGraph = (m: Network | Graph): m is Graph => 'nodes' in m;
const boxesOf = (domain: Box | Box[]): Box[] => (Array.isArray(domain) ? domain : [domain]);

/** `run` with a pool of `workers` threads (one, inline, for networks with many inputs), ended afterwards. */
const withTreePool = <R>(net: Network, workers: number, run: (pool: WorkerPool) => Promise<R>): Promise<R> =>
  withPool(manyInputs(net.inputSize) ? 1 : Math.max(1, Math.floor(workers)), run);

/**
 * Decides a VNN-LIB property (a path, or one read with {@link readVnnlib}) of a network or a graph, as
 * `nnshrink verify` does: `sat` with a counterexample re-checked by plain evaluation, `unsat` (proved), or `unknown`.
 * @throws NnsError when the property does not fit the network (its inputs or outputs)
 */
export async function verify(model: Network | Graph, property: VnnProperty | string, opts: SearchOptions = {}): Promise<PropertyResult> {
  const prop = typeof property === 'string' ? readVnnlib(property) : property;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await loadMilpSolver();
  const where = typeof property === 'string' ? property : 'the property';
  const report = reporter(opts);
  // a chain's search bounds boxes of inputs, a graph's nodes of its ReLU-splitting tree
  const onProgress = (unit: string) => (stage: string, done: number, open: number, leftMs: number): void => report({ stage, done, total: 0, detail: `${done} ${unit} bounded, ${open} open`, leftMs });
  await checkpoint(opts.signal);
  if (isGraph(model)) {
    checkGraphPropertyFits(model, prop, where);
    const g = decideGraph(model, prop, { timeoutMs, onProgress: onProgress('nodes') });
    await checkpoint(opts.signal);
    return g;
  }
  checkPropertyFits(model, prop, where);
  const r = await withTreePool(model, opts.workers ?? 1, (pool) => decidePropertyOnPool(model, prop, { timeoutMs, onProgress: onProgress('boxes') }, pool));
  await checkpoint(opts.signal);
  return r;
}

/** The question {@link equiv} answers: |f - g| within epsilon on every output, or the same winning class. */
export type EquivQuestion = { epsilon: number } | { sameClass: 'argmax' | 'argmin'; margin?: number };

const sameSizes = (f: Network, g: Network): boolean =>
  f.layers.length === g.layers.length && f.layers.every((L, k) => L.outSize === g.layers[k].outSize);

/**
 * Proves two networks equivalent on the domain, or refutes it with a witness re-checked by evaluation, as
 * `nnshrink equiv` does without a certificate: the layer-by-layer difference when the layer sizes match, else the
 * two side by side as one network. The answer's `verdict.status` is proved, refuted or unknown.
 */
export async function equiv(f: Network, g: Network, domain: Box | Box[], question: EquivQuestion, opts?: SearchOptions): Promise<LinfResult | ClassResult>;
/**
 * A graph on either side (a chain beside it is taken as the graph of its layers): the diff method for two graphs of
 * the same structure, the product method for any two, as `nnshrink equiv` on graphs; the answer's `result` is
 * proved, refuted (a witness re-checked by evaluation) or unknown. Runs in this thread.
 */
export async function equiv(f: Network | Graph, g: Network | Graph, domain: Box | Box[], question: EquivQuestion, opts?: SearchOptions & { maxNodes?: number }): Promise<GraphAnswer>;
export async function equiv(f: Network | Graph, g: Network | Graph, domain: Box | Box[], question: EquivQuestion, opts: SearchOptions & { maxNodes?: number } = {}): Promise<LinfResult | ClassResult | GraphAnswer> {
  const boxes = boxesOf(domain);
  if (isGraph(f) || isGraph(g)) {
    const shaped = isGraph(f) ? f : (g as Graph);
    const asGraph = (m: Network | Graph, name: string): Graph => (isGraph(m) ? m : chainAsGraph(m, shaped.input.shape, shaped.output.shape, name));
    const q = 'epsilon' in question ? { kind: 'linf' as const, epsilon: question.epsilon } : { kind: 'class' as const, order: question.sameClass, margin: question.margin ?? 0 };
    await checkpoint(opts.signal);
    const r = await equivGraphPair(asGraph(f, 'f'), asGraph(g, 'g'), boxes, q, { timeoutMs: opts.timeoutMs ?? 60_000, method: 'auto', ...(opts.maxNodes !== undefined ? { maxNodes: opts.maxNodes } : {}) });
    await checkpoint(opts.signal);
    return r;
  }
  const report = reporter(opts);
  // the difference method reports boxes done and open; the product method the property search's phase too
  const onDiff = (done: number, open: number): void => report({ stage: 'equiv: difference', done, total: 0, detail: `${done} bounded, ${open} open` });
  const onProduct = (stage: string, done: number, open: number, leftMs: number): void => report({ stage, done, total: 0, detail: `${done} bounded, ${open} open`, leftMs });
  const base = { boundsFn: crownBounds, outputLinearLower, timeoutMs: opts.timeoutMs ?? 60_000 };
  await loadMilpSolver();
  await checkpoint(opts.signal);
  const diff = sameSizes(f, g);
  const margin = 'epsilon' in question ? 0 : (question.margin ?? 0);
  const r = await (diff
    ? 'epsilon' in question
      ? checkLinf(alignedPair(f, g), boxes, question.epsilon, { ...base, onProgress: onDiff })
      : checkClass(alignedPair(f, g), boxes, question.sameClass, margin, { ...base, onProgress: onDiff })
    : withTreePool(f, opts.workers ?? 1, (pool) =>
        'epsilon' in question
          ? checkLinfProduct(f, g, boxes, question.epsilon, { ...base, pool, onProgress: onProduct })
          : checkClassProduct(f, g, boxes, question.sameClass, margin, { ...base, pool, onProgress: onProduct }),
      ));
  await checkpoint(opts.signal);
  return r;
}
