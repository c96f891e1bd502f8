/**
 * `equiv A B` when A or B is a graph (a CNN's ONNX): the options read, a chain beside a graph taken as the graph of
 * its dense layers (chainAsGraph, with the graph's input and output shapes), and the library's graph equivalence
 * (src/api/equiv-graph.ts: diff or product, a witness re-checked by plain evaluation) called; its answer has the
 * chain path's shape, so cmd-equiv prints both alike.
 */
import { fail } from '../errors.ts';
import type { AnyModel } from '../formats/load.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import { outputSize } from '../model/network.ts';
import { chainAsGraph } from '../model/graph/from-chain.ts';
import { equivGraphPair, type GraphAnswer } from '../api/equiv-graph.ts';
import { intOpt, jobsOpt, numberOpt, resolveGraphDomain } from './common.ts';
import { equivQuestion } from './tolerance-args.ts';

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
  const answer = await equivGraphPair(f, g, domain, q, { timeoutMs, method, maxNodes });
  return { answer, eps: q.kind === 'class' ? null : q.epsilon };
}
