/**
 * Mixed-integer programming on a graph for what branch and bound leaves: a sound lower bound of c . T(x) over a box
 * for one tensor T, given bounds of every tensor (graphCrownBounds; the big-M constants and column bounds come from
 * them, so tighter bounds make a smaller search). Columns only for the tensors T depends on; linear operators are
 * rows taken from their own bound rules and kernels (milp-linear.ts), ReLU-like and max-pool operators exact with
 * binaries (milp-pwl.ts), any other nonlinear operator by its relaxation (the result is then a bound, never
 * `exact`). Solved by the project's HiGHS (verify/search/milp.ts), its optimum widened by milpSlack; a model past
 * the size limits is refused before it is solved ('limit'), and so is one when the solver is not loaded.
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import { size } from '../../model/graph/shape.ts';
import { forwardAll } from '../../model/graph/forward.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { MILP_MAX_NODES, milpSlack } from '../search/milp.ts';
import { DEFAULT_MILP_LIMITS, LimitReached, MilpBuilder, newRep, type MilpLimits } from './milp-model.ts';
import { DIAGONAL, encodeDiagonal, encodeLinearRows, encodeMoving, encodeRelaxed, LINEAR_ROWS, MOVING, scanWork, type EncodeCtx } from './milp-linear.ts';
import { encodeMaxpool, encodeReluLike, needsBinary, poolCandidates, ProvedInfeasible, RELU_LIKE } from './milp-pwl.ts';
import { solveModel, type Solved } from './milp-solve.ts';

export interface GraphMilpOptions {
  timeLimitS: number;
  /** per ReLU-like node (by node name), per element: +1 active (z >= 0, y = z), -1 inactive (z <= 0), 0 free */
  fixed?: ReadonlyMap<string, Int8Array>;
  /** size limits of the model (default DEFAULT_MILP_LIMITS) */
  limits?: Partial<MilpLimits>;
  /** the solver's branch-and-bound nodes at most (default MILP_MAX_NODES): a work limit */
  maxNodes?: number;
  /** relative optimality gap at which the solver stops (default 1e-4, HiGHS's own) */
  gap?: number;
  /** only whether the minimum exceeds this matters: the solver prunes what cannot go below it */
  cutoff?: number;
}

export interface GraphMilpResult {
  /**
   * 'optimal': the search finished, lower = its proved bound widened; 'infeasible': no point of the box has the
   * fixed phases (lower = Infinity) or, with a cutoff, no point goes below it (lower = cutoff + slack > cutoff);
   * 'limit': refused as too large, solver not loaded, or stopped by time or nodes (lower = the dual bound so far
   * widened, or -Infinity).
   */
  status: 'optimal' | 'infeasible' | 'limit';
  lower: number;
  /** the solver's best input point (clamped to the box): a candidate only */
  x?: Float64Array;
  /** c . T(x) by plain evaluation (forwardAll) */
  value?: number;
  /** every nonlinear operator encoded exactly (no relaxation): lower is then the minimum's bound, not a relaxation's */
  exact: boolean;
  /** how far the solver's bound was widened (milpSlack of the objective's magnitude) */
  slack: number;
  size: { columns: number; rows: number; nonzeros: number; binaries: number };
  reason?: string;
  timeMs: number;
}

const EXACT_OPS = new Set([...MOVING, ...DIAGONAL, ...LINEAR_ROWS, ...RELU_LIKE, 'maxpool']);

/** The nodes T depends on, in order. */
function neededNodes(g: Graph, t: string): GraphNode[] {
  const need = new Set([t]);
  for (let i = g.nodes.length - 1; i >= 0; i--) if (need.has(g.nodes[i].output)) for (const x of g.nodes[i].inputs) need.add(x);
  return g.nodes.filter((n) => need.has(n.output));
}

/** Binaries and extraction work the model will need, known before building it. */
function preCount(g: Graph, nodes: GraphNode[], bounds: TensorBounds, fixed?: ReadonlyMap<string, Int8Array>): { binaries: number; scan: number } {
  let binaries = 0;
  let scan = 0;
  for (const n of nodes) {
    for (const t of [...n.inputs, n.output]) if (!bounds.has(t)) throw new Error(`internal: graphMilp without bounds of tensor '${t}'`);
    const z = bounds.get(n.inputs[0])!;
    if (RELU_LIKE.has(n.op)) for (let e = 0; e < z.lo.length; e++) binaries += needsBinary(z, fixed?.get(n.name), e) ? 1 : 0;
    else if (n.op === 'maxpool') for (const c of poolCandidates(n, g.shapes.get(n.inputs[0])!, g.shapes.get(n.output)!, z)) binaries += c.length > 1 ? c.length : 0;
    scan += scanWork(g, n, !EXACT_OPS.has(n.op));
  }
  return { binaries, scan };
}

function encode(c: EncodeCtx, n: GraphNode): void {
  const rep = MOVING.has(n.op)
    ? encodeMoving(c, n)
    : DIAGONAL.has(n.op)
      ? encodeDiagonal(c, n)
      : LINEAR_ROWS.has(n.op)
        ? encodeLinearRows(c, n)
        : RELU_LIKE.has(n.op)
          ? encodeReluLike(c, n)
          : n.op === 'maxpool'
            ? encodeMaxpool(c, n)
            : encodeRelaxed(c, n);
  c.reps.set(n.output, rep);
}

/** The model of T's dependencies with the objective c . T: cost per column, offset and the terms' magnitude. */
function buildModel(g: Graph, box: Box, bounds: TensorBounds, t: string, coeffs: Float64Array, nodes: GraphNode[], limits: MilpLimits, fixed?: ReadonlyMap<string, Int8Array>): { b: MilpBuilder; cost: Float64Array; offset: number; mag: number } {
  const b = new MilpBuilder(limits);
  const n0 = box.lo.length;
  const input = newRep(n0);
  for (let e = 0; e < n0; e++) [input.col[e], input.coef[e]] = [b.addCol(box.lo[e], box.hi[e]), 1];
  const ctx: EncodeCtx = { g, bounds, b, reps: new Map([[g.input.name, input]]), fixed };
  for (const n of nodes) encode(ctx, n);
  const rep = ctx.reps.get(t)!;
  const cost = new Float64Array(b.numCols);
  let offset = 0;
  let mag = 0;
  for (let e = 0; e < coeffs.length; e++) {
    const w = coeffs[e];
    if (w === 0) continue;
    offset += w * rep.cst[e];
    mag += Math.abs(w * rep.cst[e]);
    const col = rep.col[e];
    if (col < 0) continue;
    cost[col] += w * rep.coef[e];
    mag += Math.abs(w * rep.coef[e]) * Math.max(Math.abs(b.colLo[col]), Math.abs(b.colHi[col]));
  }
  return { b, cost, offset, mag };
}

export function graphMilp(g: Graph, box: Box, bounds: TensorBounds, objective: { tensor: string; coeffs: Float64Array }, opts: GraphMilpOptions): GraphMilpResult {
  const t0 = Date.now();
  const t = objective.tensor;
  const shape = g.shapes.get(t);
  if (!shape || size(shape) !== objective.coeffs.length) throw new Error(`internal: graphMilp objective of ${objective.coeffs.length} coefficients for tensor '${t}'`);
  const limits = { ...DEFAULT_MILP_LIMITS, ...opts.limits };
  const nodes = neededNodes(g, t);
  const exact = nodes.every((n) => EXACT_OPS.has(n.op));
  const none = { columns: 0, rows: 0, nonzeros: 0, binaries: 0 };
  const refuse = (reason: string, sz = none): GraphMilpResult => ({ status: 'limit', lower: -Infinity, exact, slack: 0, size: sz, reason, timeMs: Date.now() - t0 });
  const pre = preCount(g, nodes, bounds, opts.fixed);
  if (pre.binaries > limits.maxBinaries) return refuse(`${pre.binaries} binaries, more than ${limits.maxBinaries}`, { ...none, binaries: pre.binaries });
  if (pre.scan > limits.maxScan) return refuse(`extracting the rows would scan ${pre.scan.toExponential(2)} coefficients, more than ${limits.maxScan.toExponential(2)}`);
  let model: ReturnType<typeof buildModel>;
  try {
    model = buildModel(g, box, bounds, t, objective.coeffs, nodes, limits, opts.fixed);
  } catch (e) {
    if (e instanceof LimitReached) return refuse(`model too large: ${e.message}`);
    if (e instanceof ProvedInfeasible) return { status: 'infeasible', lower: Infinity, exact, slack: 0, size: none, reason: e.message, timeMs: Date.now() - t0 };
    throw e;
  }
  const { b } = model;
  const sz = { columns: b.numCols, rows: b.numRows, nonzeros: b.idx.length, binaries: b.binaries };
  const slack = milpSlack(model.mag);
  const cutoff = opts.cutoff === undefined ? undefined : opts.cutoff + 2 * slack;
  const timeS = Math.max(0.05, opts.timeLimitS - (Date.now() - t0) / 1000);
  const solved: Solved | string = solveModel(b, model.cost, model.offset, { timeS, maxNodes: opts.maxNodes ?? MILP_MAX_NODES, gap: opts.gap ?? 1e-4, cutoff });
  if (typeof solved === 'string') return refuse(solved, sz);
  const res: GraphMilpResult = { status: 'limit', lower: -Infinity, exact, slack, size: sz, timeMs: 0 };
  if (solved.status === 'infeasible') {
    res.status = 'infeasible';
    res.lower = cutoff === undefined ? Infinity : cutoff - slack;
  } else {
    res.status = solved.status;
    res.lower = solved.lower - slack; // -Infinity stays
    if (solved.status === 'limit') res.reason = solved.reason;
  }
  if (solved.x) {
    const n0 = box.lo.length;
    const x = Float64Array.from({ length: n0 }, (_, i) => Math.min(box.hi[i], Math.max(box.lo[i], solved.x![i])));
    const v = forwardAll(g, x, 1).get(t)!;
    let value = 0;
    for (let e = 0; e < v.length; e++) if (objective.coeffs[e] !== 0) value += objective.coeffs[e] * v[e];
    res.x = x;
    res.value = value;
  }
  res.timeMs = Date.now() - t0;
  return res;
}
