/**
 * One graph MILP handed to the project's HiGHS (milpSolver of verify/search/milp.ts), minimised. What comes back
 * is raw: the caller widens the bound (milpSlack) and re-evaluates the point. The proved bound is HiGHS's dual bound
 * (the primal optimum can sit up to the gap above it); a pure LP (no binaries) reports its optimum only.
 */
import { milpSolver } from '../search/milp.ts';
import type { MilpBuilder } from './milp-model.ts';

export interface Solved {
  status: 'optimal' | 'infeasible' | 'limit';
  /** the solver's lower bound of the objective before widening (-Infinity: none) */
  lower: number;
  /** the best point's column values */
  x?: Float64Array;
  reason?: string;
}

export interface SolveOptions {
  timeS: number;
  maxNodes: number;
  gap: number;
  /** prune what cannot go below this (HiGHS objective_bound); "infeasible" then means nothing does */
  cutoff?: number;
}

const OPTIMAL = 7;
const INFEASIBLE = 8;
const OBJECTIVE_BOUND = 11;

function infoNumber(model: { info: unknown }, key: string): number {
  try {
    const v = Number((model.info as { get(name: string): unknown }).get(key));
    return Number.isNaN(v) ? -Infinity : v;
  } catch {
    return -Infinity;
  }
}

/** Solves; a string when the solver is not loaded or refuses the model. */
export function solveModel(b: MilpBuilder, cost: Float64Array, offset: number, o: SolveOptions): Solved | string {
  const solver = milpSolver();
  if (!solver) return 'the MILP solver is not loaded (loadMilpSolver)';
  const inf = solver.infinity;
  const clampInf = (v: number): number => (v === Infinity ? inf : v === -Infinity ? -inf : v);
  const numCols = b.numCols;
  const numRows = b.numRows;
  let model;
  try {
    model = solver.createModel({
      numCols,
      numRows,
      sense: solver.constants.objectiveSense.minimize,
      offset,
      colCost: cost,
      colLower: Float64Array.from(b.colLo, clampInf),
      colUpper: Float64Array.from(b.colHi, clampInf),
      rowLower: Float64Array.from(b.rowLo, clampInf),
      rowUpper: Float64Array.from(b.rowHi, clampInf),
      matrix: { format: 'csr', numRows, numCols, starts: Int32Array.from(b.starts), indices: Int32Array.from(b.idx), values: Float64Array.from(b.val) },
      integrality: Int32Array.from(b.integer),
    });
  } catch (e) {
    return `HiGHS refused the model: ${(e as Error).message}`;
  }
  try {
    model.options.set({ time_limit: o.timeS, output_flag: false, mip_max_nodes: o.maxNodes, mip_rel_gap: o.gap, ...(o.cutoff === undefined ? {} : { objective_bound: o.cutoff }) });
    model.run();
    const status = model.getModelStatus() as number;
    if (status === INFEASIBLE || status === OBJECTIVE_BOUND) return { status: 'infeasible', lower: Infinity };
    const primal = infoNumber(model, 'objective_function_value');
    const dual = b.binaries > 0 ? infoNumber(model, 'mip_dual_bound') : -Infinity;
    let x: Float64Array | undefined;
    try {
      const sol = model.getSolution() as unknown as { colValue?: Float64Array };
      if (sol?.colValue?.length === numCols) x = Float64Array.from(sol.colValue);
    } catch {
      x = undefined;
    }
    if (status === OPTIMAL) {
      // an LP's optimum is its bound; a MIP's proved bound is the dual one, within the gap of the primal
      const lower = b.binaries === 0 ? primal : Number.isFinite(dual) ? Math.min(dual, primal) : -Infinity;
      return { status: Number.isFinite(lower) ? 'optimal' : 'limit', lower, ...(x ? { x } : {}), ...(Number.isFinite(lower) ? {} : { reason: 'no dual bound' }) };
    }
    return { status: 'limit', lower: Number.isFinite(dual) ? dual : -Infinity, ...(x ? { x } : {}), reason: `HiGHS stopped with model status ${status}` };
  } catch (e) {
    return `HiGHS failed: ${(e as Error).message}`;
  } finally {
    model.dispose();
  }
}
