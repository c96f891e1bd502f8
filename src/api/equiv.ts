/**
 * `equivModels(a, b, options)`: two models proved equivalent on a domain (max |a - b| <= epsilon, or the same
 * class), or refuted with a witness re-checked by plain evaluation, as `nnshrink equiv A B` decides it: B pruned
 * from A by nnshrink paired with A through its certificate; the layer-by-layer difference (the same layer sizes);
 * the two side by side (any shapes: its input-splitting trees on threads or the job queue, the same trees for any
 * number); a graph on either side: the graph checks.
 */
import type { AnyModel } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import { outputSize } from '../model/network.ts';
import { chainAsGraph } from '../model/graph/from-chain.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import type { JobRunner } from '../pool/pool.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { equivThroughEdits, type EquivQuestion as Question } from '../simplify/certified-equiv.ts';
import { fail } from '../errors.ts';
import { certificateFor, writtenPrune } from './certified.ts';
import { equivGraphPair, type EquivAnswer } from './equiv-graph.ts';
import { equivChainPair, tieNote } from './equiv-chain.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';
import type { Model } from './prune.ts';
import type { EquivQuestion } from './search.ts';

/** How equiv decides: auto picks the certificate when B has one, else diff when the layer sizes match, else product. */
export type EquivMethod = 'auto' | 'certificate' | 'diff' | 'product';

/** The options of {@link equivModels}. */
export interface EquivModelsOptions extends RunOptions {
  /** |a - b| <= epsilon on every output (epsilon 0: the proved and the largest found |a - b| reported), or the same class */
  question: EquivQuestion;
  /** the input domain (default: A's own, as its file states it) */
  domain?: Box | Box[];
  method?: EquivMethod;
  /** the certificate pairing B with A (default: B's path + `.certificate.json`, when it exists) */
  certificate?: string;
  /** the time limit in milliseconds (default 60,000); reaching it answers unknown, never proved */
  timeoutMs?: number;
  /** a work limit: boxes (graphs: subproblems) per search, so the answer does not depend on the machine's pace */
  maxBoxes?: number;
  /** threads for the product method's trees (default 1), or a JobRunner (the job queue; its owner closes it) */
  workers?: number | JobRunner;
  /** A's and B's names in messages (default their paths) */
  names?: [string, string];
}

/** proved, refuted (with the witness) or unknown; the proved and largest found |a - b| for an epsilon question. */
export interface EquivResult extends EquivAnswer {
  /** said beside the answer: a likely units mistake (NNet raw units against normalised ones), a softmax dropped */
  note?: string;
}

const asAny = (m: Model): AnyModel => ('kind' in m ? m : { kind: 'chain', model: m });
const pathOf = (m: AnyModel): string => (m.kind === 'chain' ? m.model.path : m.path);

/** The question in the checks' terms. */
const asQuestion = (q: EquivQuestion): Question => ('epsilon' in q ? { kind: 'linf', epsilon: q.epsilon } : { kind: 'class', order: q.sameClass, margin: q.margin ?? 0 });

/** Two models checked and the method chosen, before any search: what {@link runEquiv} runs. */
export type PreparedEquiv =
  | { kind: 'graph'; f: Graph; g: Graph; method: 'auto' | 'diff' | 'product'; a: AnyModel; names: [string, string] }
  | { kind: 'chain'; a: LoadedModel; b: LoadedModel; method: 'certificate' | 'diff' | 'product'; certified: ReturnType<typeof certificateFor>; names: [string, string] };

/**
 * Decides the question for two models (chains or graphs), as `nnshrink equiv` does.
 * @throws NnsError (bad-input) when their inputs or outputs differ, the method does not fit them, or no domain is known
 */
export async function equivModels(a: Model, b: Model, options: EquivModelsOptions): Promise<EquivResult> {
  const p = prepareEquiv(a, b, options);
  return runEquiv(p, domainOf(options.domain, p.a, p.names[0]), options);
}

/** The checks that need no domain (sizes, the method and the certificate, read and matched by hash), in one line each. */
export function prepareEquiv(a: Model, b: Model, options: Pick<EquivModelsOptions, 'method' | 'certificate' | 'names'>): PreparedEquiv {
  const [ma, mb] = [asAny(a), asAny(b)];
  const names: [string, string] = options.names ?? [pathOf(ma), pathOf(mb)];
  const [pa, pb] = names;
  const method = options.method ?? 'auto';
  if (ma.kind === 'graph' || mb.kind === 'graph') {
    const [f, g] = asGraphs(ma, mb, pa, pb);
    if (method === 'certificate') fail('equiv --method certificate: a certificate pairs chains that prune wrote; for a graph use --method diff or product');
    if (options.certificate !== undefined) fail('equiv: --certificate goes with --method certificate, which pairs chains only');
    return { kind: 'graph', f, g, method, a: ma, names };
  }
  const [A, B] = [ma.model, mb.model];
  if (A.network.inputSize !== B.network.inputSize) fail(`equiv: ${pa} takes ${A.network.inputSize} inputs, ${pb} takes ${B.network.inputSize}`);
  if (outputSize(A.network) !== outputSize(B.network)) fail(`equiv: ${pa} has ${outputSize(A.network)} outputs, ${pb} has ${outputSize(B.network)}`);
  const sizes = (m: LoadedModel): string => m.network.layers.map((L) => L.outSize).join('x');
  if (options.certificate !== undefined && method !== 'auto' && method !== 'certificate') fail(`equiv: --certificate goes with --method certificate, not ${method}`);
  const certified = method === 'auto' || method === 'certificate' ? certificateFor(A.network, B.network, B.path, options.certificate) : null;
  if (method === 'certificate' && !certified) fail(`equiv --method certificate: no certificate at ${B.path}.certificate.json (give --certificate C)`);
  const chosen = certified ? 'certificate' : method !== 'auto' ? method : sizes(A) === sizes(B) ? 'diff' : 'product';
  if (chosen === 'diff' && sizes(A) !== sizes(B)) fail(`equiv --method diff: the networks must have the same layer sizes (${sizes(A)} vs ${sizes(B)}); --method product takes any`);
  return { kind: 'chain', a: A, b: B, method: chosen, certified, names };
}

/** The search of a prepared pair on the domain. */
export async function runEquiv(p: PreparedEquiv, domain: Box[], options: EquivModelsOptions): Promise<EquivResult> {
  const q = asQuestion(options.question);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const report = reporter(options);
  await loadMilpSolver();
  await checkpoint(options.signal);
  const t0 = Date.now();
  let r: EquivResult;
  if (p.kind === 'graph') {
    report({ stage: 'graph equivalence', done: 0, total: 0 });
    r = await equivGraphPair(p.f, p.g, domain, q, { timeoutMs, method: p.method, ...(options.maxBoxes !== undefined ? { maxNodes: options.maxBoxes } : {}) });
  } else if (p.certified) {
    const c = equivThroughEdits(p.a.network, writtenPrune(p.certified, p.certified.written), domain, q, {
      boundsFn: crownBounds,
      outputLinearLower,
      timeoutMs,
      maxBoxes: options.maxBoxes,
      onProgress: (stage) => report({ stage, done: 0, total: 0, leftMs: t0 + timeoutMs - Date.now() }),
    });
    r = { ...c, method: `${c.method} (paired through ${p.certified.path})`, reason: c.reason && q.kind === 'class' ? tieNote(c.reason, q.margin) : c.reason };
  } else {
    // (the certificate method always has its certificate)
    const method = p.method === 'certificate' ? 'diff' : p.method;
    r = await equivChainPair(p.a, p.b, { method, domain, q, timeoutMs, maxBoxes: options.maxBoxes, workers: options.workers ?? 1, report });
  }
  await checkpoint(options.signal);
  return r;
}

/** The domain given, or A's own (a chain file's). */
function domainOf(d: Box | Box[] | undefined, m: Model, pa: string): Box[] {
  if (d !== undefined) return Array.isArray(d) ? d : [d];
  const a = asAny(m);
  if (a.kind === 'chain' && a.model.domain) return [a.model.domain];
  fail(`${pa}: the model states no input domain; give one (--domain or --vnnlib)`);
}

/** The two models as graphs of the same input and output sizes (a chain as the graph of its dense layers). */
function asGraphs(a: AnyModel, b: AnyModel, pa: string, pb: string): [Graph, Graph] {
  const inputs = (m: AnyModel): number => (m.kind === 'graph' ? size(m.graph.input.shape) : m.model.network.inputSize);
  const outputs = (m: AnyModel): number => (m.kind === 'graph' ? size(m.graph.output.shape) : outputSize(m.model.network));
  if (inputs(a) !== inputs(b)) fail(`equiv: ${pa} takes ${inputs(a)} inputs, ${pb} takes ${inputs(b)}`);
  if (outputs(a) !== outputs(b)) fail(`equiv: ${pa} has ${outputs(a)} outputs, ${pb} has ${outputs(b)}`);
  const shaped = a.kind === 'graph' ? a.graph : (b as { graph: Graph }).graph;
  const graphOf = (m: AnyModel, p: string): Graph => (m.kind === 'graph' ? m.graph : chainAsGraph(m.model.network, shaped.input.shape, shaped.output.shape, p));
  return [graphOf(a, pa), graphOf(b, pb)];
}
