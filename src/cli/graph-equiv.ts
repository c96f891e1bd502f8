/**
 * `equiv A B` when A or B is a graph (a CNN's ONNX): the graph equivalence checks (checkGraphLinf / checkGraphClass:
 * the diff method for two graphs of the same structure, the product method for any two). A chain beside a graph
 * is compared as the graph of its dense layers (chainAsGraph), taking the graph's input and output shapes. The
 * answer has the chain path's shape, so cmd-equiv prints both alike; a witness is re-evaluated here by plain
 * evaluation of both graphs, and one that does not re-check leaves the answer unknown.
 */
import { fail } from '../errors.ts';
import type { AnyModel } from '../formats/load.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import { forwardGraph } from '../model/graph/forward.ts';
import { containsPoint, type Box } from '../model/box.ts';
import { outputSize } from '../model/network.ts';
import { checkGraphClass, checkGraphLinf } from '../verify/graph/equiv.ts';
import { withoutSoftmax } from '../verify/graph/equiv-class.ts';
import { classChanged } from '../verify/tolerance.ts';
import type { Verdict } from '../verify/verdict.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { chainAsGraph } from '../model/graph/from-chain.ts';
import { intOpt, jobsOpt, numberOpt, resolveGraphDomain } from './common.ts';
import { equivQuestion } from './tolerance-args.ts';
import type { CertifiedEquivResult } from '../simplify/certified-equiv.ts';

/** What equiv prints, for chains and graphs alike. */
export type EquivAnswer = Pick<CertifiedEquivResult, 'result' | 'method' | 'reason' | 'witness' | 'provedMaxDiff' | 'foundMaxDiff' | 'boxes' | 'timeMs'>;

export interface GraphAnswer extends EquivAnswer {
  /** said on stderr (in --json: a field) */
  note?: string;
}

/** The two models as graphs of the same input and output sizes (one-line errors naming the files otherwise). */
function asGraphs(a: AnyModel, b: AnyModel, pa: string, pb: string): [Graph, Graph] {
  const inputs = (m: AnyModel): number => (m.kind === 'graph' ? size(m.graph.input.shape) : m.model.network.inputSize);
  const outputs = (m: AnyModel): number => (m.kind === 'graph' ? size(m.graph.output.shape) : outputSize(m.model.network));
  if (inputs(a) !== inputs(b)) fail(`equiv: ${pa} takes ${inputs(a)} inputs, ${pb} takes ${inputs(b)}`);
  if (outputs(a) !== outputs(b)) fail(`equiv: ${pa} has ${outputs(a)} outputs, ${pb} has ${outputs(b)}`);
  const shaped = a.kind === 'graph' ? a.graph : (b as { graph: Graph }).graph;
  const graphOf = (m: AnyModel, p: string): Graph => (m.kind === 'graph' ? m.graph : chainAsGraph(m.model.network, shaped.input.shape, shaped.output.shape, p));
  return [graphOf(a, pa), graphOf(b, pb)];
}

/** --method for graphs: diff or product (or neither: the checks pick diff when the structures match). */
function graphMethod(values: Record<string, unknown>): 'diff' | 'product' | 'auto' {
  const m = values.method;
  if (m === undefined) return 'auto';
  if (m === 'diff' || m === 'product') return m;
  if (m === 'certificate') fail('equiv --method certificate: a certificate pairs chains that prune wrote; for a graph use --method diff or product');
  fail(`--method: '${String(m)}' (expected certificate, diff or product)`);
}

/** The question decided on graphs, as an answer cmd-equiv prints; `eps` null for a class question. */
export async function equivGraphs(a: AnyModel, b: AnyModel, pa: string, pb: string, values: Record<string, unknown>): Promise<{ answer: GraphAnswer; eps: number | null }> {
  const [f, g] = asGraphs(a, b, pa, pb);
  const method = graphMethod(values);
  if (values.certificate !== undefined) fail('equiv: --certificate goes with --method certificate, which pairs chains only');
  // the work limit: subproblems per ReLU-splitting search (the same stopping point on any machine)
  const maxNodes = values['max-boxes'] === undefined ? undefined : intOpt(values, 'max-boxes', 0, 1);
  const q = equivQuestion(values);
  const domain = resolveGraphDomain(f, pa, values);
  const timeoutMs = numberOpt(values, 'timeout', 60, 0.01) * 1000;
  jobsOpt(values); // read (a bad value fails); the graph searches run in this thread
  await loadMilpSolver();
  const opts = { timeoutMs, method, maxNodes };
  if (q.kind === 'class') {
    const r = checkGraphClass(f, g, domain, { ...opts, order: q.order, margin: q.margin });
    // the class of the scores before a final softmax, as the check took it (the margin is on those scores)
    const [fl, gl] = [withoutSoftmax(f), withoutSoftmax(g)];
    const answer = confirmed(fromVerdict(r.verdict, r.boxes), (w) => classChanged(forwardGraph(fl, w), forwardGraph(gl, w), q.order, q.margin), domain);
    const dropped = r.verdict.detail?.softmaxDropped ? 'a final softmax was dropped: the class and the margin are those of the scores before it' : undefined;
    return { answer: dropped ? { ...answer, note: dropped } : answer, eps: null };
  }
  const r = checkGraphLinf(f, g, domain, q.epsilon, opts);
  const answer = {
    ...fromVerdict(r.verdict, r.boxes),
    provedMaxDiff: Number.isFinite(r.provedBound) ? r.provedBound : null,
    foundMaxDiff: r.foundMax,
  };
  return { answer: confirmed(answer, (w) => linfDiff(forwardGraph(f, w), forwardGraph(g, w)) > q.epsilon, domain), eps: q.epsilon };
}

function fromVerdict(v: Verdict, boxes: number): GraphAnswer {
  return {
    result: v.status,
    method: v.method,
    reason: v.status === 'unknown' ? v.reason : undefined,
    witness: v.status === 'refuted' ? Array.from(v.witness) : undefined,
    boxes,
    timeMs: v.timeMs,
  };
}

/** A refutation stands only when its witness lies in the domain and re-evaluates as one. */
function confirmed(ans: GraphAnswer, violates: (w: Float64Array) => boolean, domain: Box[]): GraphAnswer {
  if (ans.result !== 'refuted') return ans;
  const w = Float64Array.from(ans.witness ?? []);
  if (w.length === domain[0].lo.length && domain.some((d) => containsPoint(d, w)) && violates(w)) return ans;
  return { ...ans, result: 'unknown', witness: undefined, reason: 'a witness found did not re-check by plain evaluation' };
}

export function linfDiff(y: Float64Array, z: Float64Array): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - z[i]));
  return m;
}
