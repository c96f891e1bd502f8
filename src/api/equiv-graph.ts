/**
 * Equivalence of two graphs (a CNN's ONNX on either side; `equiv A B` and the library's equiv): the diff method for
 * two graphs of the same structure, the product method for any two (checkGraphLinf / checkGraphClass). A refutation
 * stands only when its witness lies in the domain and re-evaluates as one by plain evaluation of both graphs.
 */
import { forwardGraph } from '../model/graph/forward.ts';
import type { Graph } from '../model/graph/types.ts';
import { containsPoint, type Box } from '../model/box.ts';
import { checkGraphClass, checkGraphLinf } from '../verify/graph/equiv.ts';
import { withoutSoftmax } from '../verify/graph/equiv-class.ts';
import { classChanged } from '../verify/tolerance.ts';
import type { Verdict } from '../verify/verdict.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import type { CertifiedEquivResult } from '../simplify/certified-equiv.ts';
import type { EquivQuestion } from '../simplify/certified-equiv.ts';

/** What equiv answers, for chains and graphs alike. */
export type EquivAnswer = Pick<CertifiedEquivResult, 'result' | 'method' | 'reason' | 'witness' | 'provedMaxDiff' | 'foundMaxDiff' | 'boxes' | 'timeMs'>;

/** A graph answer, with a note said beside it (a final softmax dropped for a class question). */
export interface GraphAnswer extends EquivAnswer {
  note?: string;
}

/** How the graph checks run: their time limit, the method (auto: diff when the structures match), a work limit. */
export interface GraphEquivAsk {
  timeoutMs: number;
  method: 'diff' | 'product' | 'auto';
  /** subproblems per ReLU-splitting search (the same stopping point on any machine) */
  maxNodes?: number;
}

export async function equivGraphPair(f: Graph, g: Graph, domain: Box[], q: EquivQuestion, o: GraphEquivAsk): Promise<GraphAnswer> {
  await loadMilpSolver();
  const opts = { timeoutMs: o.timeoutMs, method: o.method, maxNodes: o.maxNodes };
  if (q.kind === 'class') {
    const r = checkGraphClass(f, g, domain, { ...opts, order: q.order, margin: q.margin });
    // the class of the scores before a final softmax, as the check took it (the margin is on those scores)
    const [fl, gl] = [withoutSoftmax(f), withoutSoftmax(g)];
    const answer = confirmed(fromVerdict(r.verdict, r.boxes), (w) => classChanged(forwardGraph(fl, w), forwardGraph(gl, w), q.order, q.margin), domain);
    const dropped = r.verdict.detail?.softmaxDropped ? 'a final softmax was dropped: the class and the margin are those of the scores before it' : undefined;
    return dropped ? { ...answer, note: dropped } : answer;
  }
  const r = checkGraphLinf(f, g, domain, q.epsilon, opts);
  const answer = {
    ...fromVerdict(r.verdict, r.boxes),
    provedMaxDiff: Number.isFinite(r.provedBound) ? r.provedBound : null,
    foundMaxDiff: r.foundMax,
  };
  return confirmed(answer, (w) => linfDiff(forwardGraph(f, w), forwardGraph(g, w)) > q.epsilon, domain);
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

/** The largest absolute difference of two output vectors. */
export function linfDiff(y: Float64Array, z: Float64Array): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - z[i]));
  return m;
}
