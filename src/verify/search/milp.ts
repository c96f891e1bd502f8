/**
 * Exact decisions by mixed-integer programming (HiGHS, WebAssembly): the largest (or smallest) pre-activation of
 * one neuron over a box, with a binary only for each ReLU the given bounds leave unstable (big-M from those bounds:
 * tight bounds are what make this tractable). HiGHS works to ~1e-6 tolerances, so a bound it reports is trusted
 * only after widening by MILP_REL x (magnitude of the objective's terms) + MILP_ABS; a solution is trusted only
 * after plain forward evaluation.
 */
import type { Highs } from 'highs';
import { forwardTrace, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';

export const MILP_REL = 1e-5;
export const MILP_ABS = 1e-6;

/**
 * The memory bound of one MILP: the solver's branch-and-bound tree stops after this many nodes (then the answer is
 * unknown, as at its time limit). A node keeps its bound changes and a basis, a few KB for the models here: well
 * within a search's SEARCH_MEMORY_BYTES (limits.ts), and more nodes than a query's time limit reaches today.
 */
export const MILP_MAX_NODES = 200_000;

let solver: Highs | null = null;

/** Loads the solver once per process (it compiles WebAssembly: about a second). */
export async function loadMilpSolver(): Promise<void> {
  if (solver) return;
  const mod = (await import('highs')) as unknown as { default: () => Promise<Highs> };
  solver = await mod.default();
}

export function milpAvailable(): boolean {
  return solver !== null;
}

/** The loaded solver (null before loadMilpSolver): the graph MILP (verify/graph/milp.ts) builds its models on it. */
export const milpSolver = (): Highs | null => solver;

/** How far a HiGHS optimum is widened before use, for an objective whose terms sum to `mag` in magnitude. */
export const milpSlack = (mag: number): number => MILP_REL * (1 + mag) + MILP_ABS;

export interface NeuronExtreme {
  /** 'proved': sign * z <= 0 on the whole box; 'refuted': witness x with sign * z > 0; 'unknown': time ran out */
  status: 'proved' | 'refuted' | 'unknown';
  bound?: number;
  witness?: Float64Array;
  /** 'unknown' with the solver's best point, which plain evaluation did not confirm (a start for local search) */
  near?: Float64Array;
  timeMs: number;
}

/**
 * Decides sign * z_{k,i} <= 0 over the box (sign = +1: never active; sign = -1: always active, as -z <= 0).
 */
export function milpNeuronSign(net: Network, box: Box, bounds: NetworkBounds, k: number, i: number, sign: 1 | -1, timeMs: number): NeuronExtreme {
  const c = new Float64Array(net.layers[k].outSize);
  c[i] = sign;
  return milpLinearSign(net, box, bounds, k, c, 0, timeMs);
}

/**
 * Decides c . z_k + d <= 0 over the box, z_k = layer k's pre-activations ('proved'), or finds an input where it is
 * > 0 ('refuted', re-evaluated). With k = the output layer this decides one output constraint of a property.
 */
export function milpLinearSign(net: Network, box: Box, bounds: NetworkBounds, k: number, c: Float64Array, d: number, timeMs: number): NeuronExtreme {
  const t0 = Date.now();
  if (!solver) return { status: 'unknown', timeMs: 0 };
  const n0 = net.inputSize;
  // columns: inputs, then per layer < k one column per neuron that is not fixed at 0, then binaries
  const colLower: number[] = [];
  const colUpper: number[] = [];
  const integrality: number[] = [];
  for (let t = 0; t < n0; t++) {
    colLower.push(box.lo[t]);
    colUpper.push(box.hi[t]);
    integrality.push(0);
  }
  let prevCols: Int32Array = Int32Array.from({ length: n0 }, (_, t) => t); // column of each activation, -1 = zero
  const rowsStart: number[] = [0];
  const rowIdx: number[] = [];
  const rowVal: number[] = [];
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  const addRow = (terms: Array<[number, number]>, lo: number, hi: number): void => {
    for (const [c, v] of terms) {
      rowIdx.push(c);
      rowVal.push(v);
    }
    rowsStart.push(rowIdx.length);
    rowLower.push(lo);
    rowUpper.push(hi);
  };
  const INF = Infinity;
  for (let l = 0; l < k; l++) {
    const L = net.layers[l];
    const cols = new Int32Array(L.outSize).fill(-1);
    for (let j = 0; j < L.outSize; j++) {
      const lo = bounds[l].lo[j];
      const hi = bounds[l].hi[j];
      const relu = L.relu[j] === 1;
      if (relu && hi <= 0) continue; // never active here: the activation is 0
      const lin: Array<[number, number]> = [];
      for (let t = 0; t < L.inSize; t++) {
        const w = L.weights[j * L.inSize + t];
        if (w !== 0 && prevCols[t] >= 0) lin.push([prevCols[t], -w]);
      }
      const a = colLower.length;
      cols[j] = a;
      const b = L.bias[j];
      if (!relu || lo >= 0) {
        colLower.push(relu ? Math.max(lo, 0) : lo);
        colUpper.push(hi);
        integrality.push(0);
        addRow([[a, 1], ...lin], b, b); // a = W a_prev + b
        continue;
      }
      colLower.push(0);
      colUpper.push(hi);
      integrality.push(0);
      const d = colLower.length;
      colLower.push(0);
      colUpper.push(1);
      integrality.push(1);
      addRow([[a, 1], ...lin], b, INF); // a >= z
      addRow([[a, 1], ...lin, [d, -lo]], -INF, b - lo); // a <= z - lo (1 - d)
      addRow([[a, 1], [d, -hi]], -INF, 0); // a <= hi d
    }
    prevCols = cols;
  }
  // objective: c . (W_k a_{k-1} + b_k) + d
  const Lk = net.layers[k];
  const numCols = colLower.length;
  const cost = new Float64Array(numCols);
  let offset = d;
  let mag = Math.abs(d);
  for (let i = 0; i < Lk.outSize; i++) {
    if (c[i] === 0) continue;
    offset += c[i] * Lk.bias[i];
    mag += Math.abs(c[i] * Lk.bias[i]);
    for (let t = 0; t < Lk.inSize; t++) {
      const col = prevCols[t];
      if (col < 0) continue;
      const w = c[i] * Lk.weights[i * Lk.inSize + t];
      cost[col] += w;
      mag += Math.abs(w) * Math.max(Math.abs(colLower[col]), Math.abs(colUpper[col]));
    }
  }
  const model = solver.createModel({
    numCols,
    numRows: rowLower.length,
    sense: solver.constants.objectiveSense.maximize,
    offset,
    colCost: cost,
    colLower: Float64Array.from(colLower),
    colUpper: Float64Array.from(colUpper),
    rowLower: Float64Array.from(rowLower, (v) => (v === -INF ? -solver!.infinity : v)),
    rowUpper: Float64Array.from(rowUpper, (v) => (v === INF ? solver!.infinity : v)),
    matrix: { format: 'csr', numRows: rowLower.length, numCols, starts: Int32Array.from(rowsStart), indices: Int32Array.from(rowIdx), values: Float64Array.from(rowVal) },
    integrality: Int32Array.from(integrality),
  });
  let near: Float64Array | undefined;
  try {
    const slack = milpSlack(mag);
    // cut off everything that cannot reach -slack: "infeasible" then means max sign*z < -slack (+ solver tolerance)
    model.options.set({ time_limit: Math.max(0.05, timeMs / 1000), output_flag: false, mip_heuristic_effort: 0.01, objective_bound: -slack, mip_max_nodes: MILP_MAX_NODES });
    model.run();
    const status = model.getModelStatus();
    const info = model.info as unknown as { get(name: string): number };
    let dual = Infinity;
    try {
      dual = Number(info.get('mip_dual_bound'));
    } catch {
      dual = Infinity;
    }
    if (status === 8) return { status: 'proved', bound: -slack, timeMs: Date.now() - t0 };
    // a feasible point: re-evaluate it; only plain evaluation can refute
    try {
      const sol = model.getSolution() as unknown as { colValue: Float64Array };
      if (sol?.colValue?.length) {
        const x = Float64Array.from({ length: n0 }, (_, t) => Math.min(box.hi[t], Math.max(box.lo[t], sol.colValue[t])));
        const z = forwardTrace(net, x, 1).pre[k];
        let v = d;
        for (let i = 0; i < z.length; i++) v += c[i] * z[i];
        if (v > 0) return { status: 'refuted', witness: x, timeMs: Date.now() - t0 };
        near = x;
      }
    } catch {
      // no solution to read
    }
    if (Number.isFinite(dual) && dual + slack < 0) return { status: 'proved', bound: dual + slack, timeMs: Date.now() - t0 };
    return { status: 'unknown', bound: Number.isFinite(dual) ? dual + slack : undefined, ...(near ? { near } : {}), timeMs: Date.now() - t0 };
  } finally {
    model.dispose();
  }
}

/**
 * A point of the box minimising cost . x subject to dense rows lo_r <= row_r . x <= hi_r, by LP; undefined when the
 * solver is not loaded, finds nothing in time, or the rows cannot be met. Only a candidate: the caller evaluates it.
 */
export function lpArgmin(box: Box, cost: Float64Array, rows: Float64Array[], lo: number[], hi: number[], timeMs: number): Float64Array | undefined {
  if (!solver) return undefined;
  const n = box.lo.length;
  const starts = [0];
  const idx: number[] = [];
  const val: number[] = [];
  for (const r of rows) {
    for (let t = 0; t < n; t++) {
      if (r[t] === 0) continue;
      idx.push(t);
      val.push(r[t]);
    }
    starts.push(idx.length);
  }
  const inf = solver.infinity;
  const model = solver.createModel({
    numCols: n,
    numRows: rows.length,
    sense: solver.constants.objectiveSense.minimize,
    offset: 0,
    colCost: cost,
    colLower: Float64Array.from(box.lo),
    colUpper: Float64Array.from(box.hi),
    rowLower: Float64Array.from(lo, (v) => (v === -Infinity ? -inf : v)),
    rowUpper: Float64Array.from(hi, (v) => (v === Infinity ? inf : v)),
    matrix: { format: 'csr', numRows: rows.length, numCols: n, starts: Int32Array.from(starts), indices: Int32Array.from(idx), values: Float64Array.from(val) },
    integrality: new Int32Array(n),
  });
  try {
    model.options.set({ time_limit: Math.max(0.05, timeMs / 1000), output_flag: false });
    model.run();
    if (model.getModelStatus() !== 7) return undefined; // HiGHS kOptimal
    const sol = model.getSolution() as unknown as { colValue: Float64Array };
    if (!sol?.colValue?.length) return undefined;
    return Float64Array.from({ length: n }, (_, t) => Math.min(box.hi[t], Math.max(box.lo[t], sol.colValue[t])));
  } catch {
    return undefined;
  } finally {
    model.dispose();
  }
}
