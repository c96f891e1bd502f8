/**
 * Exact decisions by mixed-integer programming (HiGHS, WebAssembly): the largest (or smallest) pre-activation of
 * one neuron over a box, with a binary only for each ReLU the given bounds leave unstable (big-M from those bounds:
 * tight bounds are what make this tractable). HiGHS works to ~1e-6 tolerances, so a bound it reports is trusted
 * only after widening by MILP_REL x (magnitude of the objective's terms) + MILP_ABS; a solution is trusted only
 * after plain forward evaluation.
 */
import type { Highs } from 'highs';
import { forwardTrace, type Layer, type Network } from '../../model/network.ts';
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
  const enc = encodeReluNetwork(net, box, bounds, k);
  const { cost, offset, mag } = linearObjective(net, k, c, d, enc);
  const numCols = enc.colLower.length;
  const INF = Infinity;
  const model = solver.createModel({
    numCols,
    numRows: enc.rowLower.length,
    sense: solver.constants.objectiveSense.maximize,
    offset,
    colCost: cost,
    colLower: Float64Array.from(enc.colLower),
    colUpper: Float64Array.from(enc.colUpper),
    rowLower: Float64Array.from(enc.rowLower, (v) => (v === -INF ? -solver!.infinity : v)),
    rowUpper: Float64Array.from(enc.rowUpper, (v) => (v === INF ? solver!.infinity : v)),
    matrix: { format: 'csr', numRows: enc.rowLower.length, numCols, starts: Int32Array.from(enc.rowsStart), indices: Int32Array.from(enc.rowIdx), values: Float64Array.from(enc.rowVal) },
    integrality: Int32Array.from(enc.integrality),
  });
  try {
    return solveSign(model, net, box, k, c, d, milpSlack(mag), timeMs, t0);
  } finally {
    model.dispose();
  }
}

/** The MILP of layers 0 .. k-1 over a box, in HiGHS's CSR form; `prevCols`: the column of each activation feeding
 * layer k (-1: fixed at 0). */
interface ReluMilp {
  colLower: number[];
  colUpper: number[];
  integrality: number[];
  rowsStart: number[];
  rowIdx: number[];
  rowVal: number[];
  rowLower: number[];
  rowUpper: number[];
  prevCols: Int32Array;
}

/** Columns: inputs, then per layer < k one column per neuron that is not fixed at 0, then binaries (big-M from the
 * given bounds, one binary per unstable ReLU). */
function encodeReluNetwork(net: Network, box: Box, bounds: NetworkBounds, k: number): ReluMilp {
  const n0 = net.inputSize;
  const enc: ReluMilp = { colLower: [], colUpper: [], integrality: [], rowsStart: [0], rowIdx: [], rowVal: [], rowLower: [], rowUpper: [], prevCols: Int32Array.from({ length: n0 }, (_, t) => t) };
  for (let t = 0; t < n0; t++) addColumn(enc, box.lo[t], box.hi[t], 0);
  for (let l = 0; l < k; l++) {
    const L = net.layers[l];
    const cols = new Int32Array(L.outSize).fill(-1);
    for (let j = 0; j < L.outSize; j++) cols[j] = encodeNeuron(enc, L, j, bounds[l].lo[j], bounds[l].hi[j]);
    enc.prevCols = cols;
  }
  return enc;
}

function addColumn(enc: ReluMilp, lo: number, hi: number, integer: 0 | 1): number {
  enc.colLower.push(lo);
  enc.colUpper.push(hi);
  enc.integrality.push(integer);
  return enc.colLower.length - 1;
}

function addRow(enc: ReluMilp, terms: Array<[number, number]>, lo: number, hi: number): void {
  for (const [c, v] of terms) {
    enc.rowIdx.push(c);
    enc.rowVal.push(v);
  }
  enc.rowsStart.push(enc.rowIdx.length);
  enc.rowLower.push(lo);
  enc.rowUpper.push(hi);
}

/** Neuron j of layer L, pre-activation in [lo, hi]: its activation's column (-1 when never active here: 0). */
function encodeNeuron(enc: ReluMilp, L: Layer, j: number, lo: number, hi: number): number {
  const INF = Infinity;
  const relu = L.relu[j] === 1;
  if (relu && hi <= 0) return -1;
  const lin: Array<[number, number]> = [];
  for (let t = 0; t < L.inSize; t++) {
    const w = L.weights[j * L.inSize + t];
    if (w !== 0 && enc.prevCols[t] >= 0) lin.push([enc.prevCols[t], -w]);
  }
  const b = L.bias[j];
  if (!relu || lo >= 0) {
    const a = addColumn(enc, relu ? Math.max(lo, 0) : lo, hi, 0);
    addRow(enc, [[a, 1], ...lin], b, b); // a = W a_prev + b
    return a;
  }
  const a = addColumn(enc, 0, hi, 0);
  const d = addColumn(enc, 0, 1, 1);
  addRow(enc, [[a, 1], ...lin], b, INF); // a >= z
  addRow(enc, [[a, 1], ...lin, [d, -lo]], -INF, b - lo); // a <= z - lo (1 - d)
  addRow(enc, [[a, 1], [d, -hi]], -INF, 0); // a <= hi d
  return a;
}

/** The objective c . (W_k a_{k-1} + b_k) + d over the columns, and the magnitude of its terms (for the slack). */
function linearObjective(net: Network, k: number, c: Float64Array, d: number, enc: ReluMilp): { cost: Float64Array; offset: number; mag: number } {
  const Lk = net.layers[k];
  const cost = new Float64Array(enc.colLower.length);
  let offset = d;
  let mag = Math.abs(d);
  for (let i = 0; i < Lk.outSize; i++) {
    if (c[i] === 0) continue;
    offset += c[i] * Lk.bias[i];
    mag += Math.abs(c[i] * Lk.bias[i]);
    for (let t = 0; t < Lk.inSize; t++) {
      const col = enc.prevCols[t];
      if (col < 0) continue;
      const w = c[i] * Lk.weights[i * Lk.inSize + t];
      cost[col] += w;
      mag += Math.abs(w) * Math.max(Math.abs(enc.colLower[col]), Math.abs(enc.colUpper[col]));
    }
  }
  return { cost, offset, mag };
}

type HighsModel = ReturnType<Highs['createModel']>;

/** Runs the model (its optimum cut off at -slack) and reads the answer: proved, a re-evaluated point, or unknown. */
function solveSign(model: HighsModel, net: Network, box: Box, k: number, c: Float64Array, d: number, slack: number, timeMs: number, t0: number): NeuronExtreme {
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
  let near: Float64Array | undefined;
  try {
    const sol = model.getSolution() as unknown as { colValue: Float64Array };
    if (sol?.colValue?.length) {
      const x = Float64Array.from({ length: net.inputSize }, (_, t) => Math.min(box.hi[t], Math.max(box.lo[t], sol.colValue[t])));
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
