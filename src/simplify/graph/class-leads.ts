/**
 * The leads of one output over the others in one graph, proved on boxes: s (y_c - y_j) > rhs for every j != c
 * (s = +1 for argmax, -1 for argmin). Both halves of the class claim are of this form (class-check.ts): f's winner
 * with rhs 0, g's with rhs the margin; the class-preserving search asks it of every candidate (class-prune.ts).
 */
import type { Box } from '../../model/box.ts';
import { containsPoint } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { lowerRows } from '../../bounds/graph/backward.ts';
import { BoundRefused } from '../../bounds/graph/types.ts';
import { proveGraphLinear } from '../../verify/graph/bab.ts';

export type ClassOrder = 'argmax' | 'argmin';

/** s (y_c - y_j) at its smallest over j != c: the lead of output c in scores y (Infinity with one output). */
export function leadOf(y: ArrayLike<number>, c: number, order: ClassOrder): number {
  const s = order === 'argmax' ? 1 : -1;
  let lead = Infinity;
  for (let j = 0; j < y.length; j++) if (j !== c) lead = Math.min(lead, s * (y[c] - y[j]));
  return lead;
}

export interface LeadOptions {
  /** Date.now() ms */
  deadline: number;
  /** ReLU-splitting subproblems per query at most (a work limit) */
  maxNodes?: number;
  /** MILP on small subproblems (default true); it has a time limit, so a search whose result must not depend on
   * the machine's pace turns it off */
  milp?: boolean;
}

export interface Leads {
  status: 'proved' | 'falsified' | 'unknown';
  /** per output j != c, a proved lower bound of s (y_c - y_j) over every box (-Infinity: not proved); c: Infinity */
  lower: Float64Array;
  /** falsified: a point of a box where s (y_c - y_j) <= rhs for some j, by plain evaluation */
  x?: Float64Array;
  reason?: string;
  /** subproblems bounded in all */
  nodes: number;
}

/** The rows s (y_c - y_j), j != c, over the m outputs, and which j each is. */
function leadRows(m: number, c: number, s: number): { A: Float64Array; js: number[] } {
  const js = [...Array(m).keys()].filter((j) => j !== c);
  const A = new Float64Array(js.length * m);
  js.forEach((j, q) => {
    A[q * m + c] = s;
    A[q * m + j] = -s;
  });
  return { A, js };
}

/**
 * Proves s (y_c - y_j) > rhs for every j != c on every box of g: one CROWN pass and one backward pass for all rows
 * per box, then ReLU splitting (proveGraphLinear) for each row left, the lowest first (a failing attempt stops
 * soonest). Stops at the first row not proved.
 */
export function provedLeads(g: Graph, boxes: readonly Box[], c: number, order: ClassOrder, rhs: number, o: LeadOptions): Leads {
  const m = size(g.output.shape);
  const s = order === 'argmax' ? 1 : -1;
  const lower = new Float64Array(m).fill(Infinity);
  const { A, js } = leadRows(m, c, s);
  // per output, the boxes its lead is proved on (a bound stands only when proved on all of them)
  const done = new Int32Array(m);
  let nodes = 0;
  const stop = (status: Leads['status'], reason?: string, x?: Float64Array): Leads => {
    const proved = lower.map((v, j) => (j === c ? Infinity : done[j] === boxes.length ? v : -Infinity));
    return { status, lower: proved, nodes, ...(reason ? { reason } : {}), ...(x ? { x } : {}) };
  };
  const t0 = Date.now();
  try {
    for (const [b, box] of boxes.entries()) {
      const boxEnd = t0 + ((b + 1) * (o.deadline - t0)) / boxes.length;
      const hb = graphCrownBounds(g, box, { deadline: boxEnd });
      const low = lowerRows(g, hb, g.output.name, A, js.length);
      const open = js.map((_, q) => q).filter((q) => !(low[q] > rhs)).sort((p, q) => low[p] - low[q] || p - q);
      js.forEach((j, q) => {
        if (low[q] > rhs) (lower[j] = Math.min(lower[j], low[q])), done[j]++;
      });
      for (const [k, q] of open.entries()) {
        const now = Date.now();
        if (now > o.deadline) return stop('unknown', 'timeout');
        const goal = { coeffs: A.slice(q * m, (q + 1) * m), rhs };
        const r = proveGraphLinear(g, box, goal, { deadline: now + (boxEnd - now) / (open.length - k), maxNodes: o.maxNodes, bounds: hb, ...(o.milp === false ? { milpMaxUnstable: 0 } : {}) });
        nodes += r.nodes;
        if (r.status === 'proved') {
          lower[js[q]] = Math.min(lower[js[q]], Math.max(low[q], r.lower));
          done[js[q]]++;
          continue;
        }
        const x = r.x && containsPoint(box, r.x) && !(leadOf(forwardGraph(g, r.x), c, order) > rhs) ? r.x : undefined;
        if (x) return stop('falsified', `output ${js[q]} comes within ${rhs} of output ${c}`, x);
        return stop('unknown', r.reason ?? 'unknown');
      }
    }
  } catch (e) {
    if (!(e instanceof BoundRefused)) throw e;
    return stop('unknown', `bound refused: ${e.message}`);
  }
  return stop('proved');
}
