/**
 * Which ReLU to split in a branch and bound on a graph, and what a split leaves unchanged. The score is BaBSR-like
 * (Bunel et al. 2020): an unstable ReLU with input bounds [l, u] whose output the objective's backward pass met with
 * a negative coefficient a took the chord above, whose intercept -l u / (u - l) costs the bound |a| times that;
 * splitting removes the intercept. Ties, and ReLUs met with a >= 0 only, fall back to |a| (u - l) / 1000, so a
 * split is always found while one is unstable. Node order and element order break ties: no timing involved.
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import type { BackRecord } from '../../bounds/graph/backward.ts';

/** ReLU-like operators: piecewise linear with one kink at 0, so a split at 0 makes each side one line. */
const KINKED = new Set(['relu', 'leakyrelu', 'prelu']);

export interface SplitPick {
  node: string;
  index: number;
  score: number;
}

export function reluNodes(g: Graph): GraphNode[] {
  return g.nodes.filter((n) => KINKED.has(n.op));
}

/** The unstable ReLU inputs left (lo < 0 < hi) among the nodes the objective depends on. */
export function countUnstable(g: Graph, b: TensorBounds, rec: BackRecord): number {
  let k = 0;
  for (const n of reluNodes(g)) {
    if (!rec.A.has(n.name)) continue;
    const x = b.get(n.inputs[0])!;
    for (let i = 0; i < x.lo.length; i++) if (x.lo[i] < 0 && x.hi[i] > 0) k++;
  }
  return k;
}

/** The best ReLU to split, or undefined when none the objective depends on is unstable. */
export function pickSplit(g: Graph, b: TensorBounds, rec: BackRecord): SplitPick | undefined {
  let best: SplitPick | undefined;
  for (const n of reluNodes(g)) {
    const A = rec.A.get(n.name);
    if (!A) continue;
    const x = b.get(n.inputs[0])!;
    for (let i = 0; i < x.lo.length; i++) {
      const l = x.lo[i];
      const u = x.hi[i];
      if (!(l < 0 && u > 0)) continue;
      const a = A[i];
      const score = Math.max(0, -a) * ((-l * u) / (u - l)) + (Math.abs(a) * (u - l)) / 1000;
      if (!best || score > best.score) best = { node: n.name, index: i, score };
    }
  }
  return best;
}

/**
 * For each ReLU-like node: the tensors NOT strictly downstream of its input, whose bounds a split of it leaves as
 * they were (a backward bound of a tensor visits only the tensor's ancestors).
 */
export function upstreamOf(g: Graph): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of reluNodes(g)) {
    const down = new Set<string>();
    const src = r.inputs[0];
    for (const n of g.nodes) if (n.inputs.some((t) => t === src || down.has(t))) down.add(n.output);
    out.set(r.name, new Set([g.input.name, ...g.nodes.map((n) => n.output)].filter((t) => !down.has(t))));
  }
  return out;
}
