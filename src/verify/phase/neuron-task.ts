/**
 * One open candidate of the phase census as plain data, so the census can hand what its shared tree left to the
 * worker pool: prove z_{layer,index} <= 0 (never active) or >= 0 (always active) on every given box. First branch
 * and bound aimed at this one neuron, on the network cut just after it (a handful of layers bounds many times faster
 * than the whole network): input splitting with few inputs, ReLU splitting with many; then MILP (big-M from the
 * boxes' bounds) with the time left. Each task has its own time limit, so verdicts do not depend on how many
 * workers share the tasks.
 */
import { forwardTrace, makeLayer, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { alphaCrownBounds } from '../../bounds/alpha.ts';
import { outputLinearLower } from '../../bounds/objective.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { loadMilpSolver, milpAvailable, milpNeuronSign } from '../search/milp.ts';
import { decideProperty, type SplitStrategy } from '../property/property.ts';
import { ReluBab } from '../search/relu-bab.ts';
import { manyInputs } from '../search/split.ts';

export interface NeuronTask {
  net: Network;
  boxes: Box[];
  layer: number;
  index: number;
  /** -1: prove never active (z <= 0); +1: prove always active (z >= 0) */
  sign: 1 | -1;
  timeMs: number;
  /** sound bounds over each box (the census tree's, tighter than fresh ones); computed here if absent */
  bounds?: NetworkBounds[];
  /** where MILP runs after input splitting (fresh bounds): default the same boxes (with their bounds) */
  milpBoxes?: Box[];
  /** the box the boxes were cut from: splits halve the input widest relative to it (default each box itself) */
  splitScale?: Box;
  /** share of the time for branch and bound before MILP (default 0.5; 0 = MILP only) */
  splitShare?: number;
  /** a work limit for the branch and bound: boxes (input splitting) or nodes per box (ReLU splitting); it then
   * stops at the same point on any machine (default none: the time limit alone) */
  maxBoxes?: number;
}

/** Whether a claim fails where the neuron's pre-activation is z: never active (-1) fails at z > 0, always active (+1)
 * at z < 0 (z = 0 satisfies both). */
export function claimFails(sign: 1 | -1, z: number): boolean {
  return sign < 0 ? z > 0 : z < 0;
}

export interface NeuronTaskResult {
  status: 'proved' | 'refuted' | 'unknown';
  /** a plain-evaluated input where the claim fails */
  witness?: Float64Array;
  /** what settled it */
  method?: 'input-split' | 'relu-split' | 'milp';
}

/**
 * The network up to the task's layer, its last layer reduced to the one neuron, as an identity output o = -sign * z:
 * the claim is o <= 0 everywhere, and its refutation the VNN-LIB-style question "is o >= 0 reachable?".
 */
function cutAt(net: Network, layer: number, index: number, sign: 1 | -1): Network {
  const L = net.layers[layer];
  const row = new Float64Array(L.inSize);
  for (let j = 0; j < L.inSize; j++) row[j] = -sign * L.weights[index * L.inSize + j];
  return { inputSize: net.inputSize, layers: [...net.layers.slice(0, layer), makeLayer(L.inSize, 1, row, Float64Array.of(-sign * L.bias[index]), false)] };
}

/**
 * Always the widest input: for one deep neuron over a large box the bound's error is spread over every input, and
 * smear's ranking keeps halving the same few (5_9 neuron 3:48 over the full domain: widest proves it in 10 s and
 * 12,600 boxes; smear with two trials leaves 6,000 boxes open after 120 s).
 */
const NEURON_SPLIT: SplitStrategy[] = [{ trialDims: 0, score: 'worst', rule: 'widest' }];

/** The cut network's bounds: the box's own below the layer, the one neuron's (times -sign) at it. */
function cutBounds(b: NetworkBounds, t: NeuronTask): NetworkBounds {
  const lo = b[t.layer].lo[t.index];
  const hi = b[t.layer].hi[t.index];
  return [...b.slice(0, t.layer), t.sign < 0 ? { lo: Float64Array.of(lo), hi: Float64Array.of(hi) } : { lo: Float64Array.of(-hi), hi: Float64Array.of(-lo) }];
}

/**
 * Many inputs: ReLU splitting on the cut network, box by box (each an equal share of the time left), proving
 * -o > 0, so z < 0 (never active) or z > 0 (always active): strict, stronger than the claim. Proved on every box,
 * refuted with a re-evaluated witness, or null (unknown: MILP may still settle it). On MNIST 10x20 over a 0.02 ball
 * it decides neurons in a few hundred milliseconds that a 3 s MILP leaves open.
 */
function reluSplitTask(t: NeuronTask, deadline: number): NeuronTaskResult | null {
  const cut = cutAt(t.net, t.layer, t.index, t.sign);
  for (const [i, box] of t.boxes.entries()) {
    const b = t.bounds?.[i] ? cutBounds(t.bounds[i], t) : crownBounds(cut, box);
    const bab = new ReluBab(cut, box, b, Float64Array.of(-1), 0, t.maxBoxes !== undefined ? { maxNodes: t.maxBoxes } : {});
    const st = bab.run(Date.now() + Math.max(0, deadline - Date.now()) / (t.boxes.length - i));
    if (st === 'proved') continue;
    if (st === 'refuted' && bab.witness) {
      const z = forwardTrace(t.net, bab.witness, 1).pre[t.layer][t.index];
      if (claimFails(t.sign, z)) return { status: 'refuted', witness: Float64Array.from(bab.witness), method: 'relu-split' };
    }
    return null;
  }
  return { status: 'proved', method: 'relu-split' };
}

/** Building the MILP of an MNIST 10x20 neuron (784 inputs) takes about 150 ms, whatever its time limit. */
/** The safety net of one MILP under a work limit (the node limit decides; 60 s is far above what it allows). */
const WORK_LIMITED_MILP_MS = 60_000;

const MIN_MILP_MS = 200;

/** Runs one task in this thread (MILP only when the solver is loaded). */
export function runNeuronTask(t: NeuronTask): NeuronTaskResult {
  const t0 = Date.now();
  // a MILP of less than MIN_MILP_MS mostly pays for building its model: branch and bound gets its time instead
  const asked = t.splitShare ?? 0.5;
  const share = asked > 0 && (1 - asked) * t.timeMs < MIN_MILP_MS ? 1 : asked;
  if (share > 0 && manyInputs(t.net.inputSize)) {
    const r = reluSplitTask(t, t0 + share * t.timeMs);
    if (r) return r;
  } else if (share > 0) {
    const cut = cutAt(t.net, t.layer, t.index, t.sign);
    const regionBounds = t.bounds?.map((b) => cutBounds(b, t));
    // counterexample: o >= 0 (coefficient -1, rhs 0: -o <= 0); "unsat" proves o < 0, stronger than the claim
    const prop = { nInputs: t.net.inputSize, nOutputs: 1, regions: t.boxes.map((box) => ({ box, unsafe: [[{ coeffs: Float64Array.of(-1), rhs: 0 }]] })) };
    const r = decideProperty(cut, prop, { boundsFn: crownBounds, outputLinearLower, timeoutMs: share * t.timeMs, samples: 64, descents: 2, regionBounds, strategies: NEURON_SPLIT, ...(t.splitScale ? { splitScale: t.splitScale } : {}), ...(t.maxBoxes !== undefined ? { maxBoxes: t.maxBoxes } : {}) });
    if (r.result === 'unsat') return { status: 'proved', method: 'input-split' };
    if (r.result === 'sat' && r.counterexample) {
      // the cut network's counterexample has o >= 0; the claim fails only where o > 0 (z = 0 is allowed)
      const x = Float64Array.from(r.counterexample.x);
      const z = forwardTrace(t.net, x, 1).pre[t.layer][t.index];
      if (claimFails(t.sign, z)) return { status: 'refuted', witness: x, method: 'input-split' };
    }
  }
  if (!milpAvailable() || share >= 1) return { status: 'unknown' };
  const left = Math.max(0, t.timeMs - (Date.now() - t0));
  const boxes = t.milpBoxes ?? t.boxes;
  if (boxes.length === 0) return { status: 'unknown' };
  // fresh bounds (the whole domain) need only the layers up to the neuron
  const below = { inputSize: t.net.inputSize, layers: t.net.layers.slice(0, t.layer + 1) };
  // under a work limit (maxBoxes) no step may depend on the clock: the slopes get all their iterations and each
  // MILP ends on its node limit (MILP_MAX_NODES), its time limit only a safety net, not what the search left over
  const workLimited = t.maxBoxes !== undefined;
  for (const [i, b] of boxes.entries()) {
    const known = t.milpBoxes ? undefined : t.bounds?.[i];
    // slopes optimised per neuron give tighter big-M constants, for little time next to the MILP
    const bounds = known ?? alphaCrownBounds(below, b, crownBounds(below, b), 8, workLimited ? Infinity : Date.now() + 0.25 * left);
    const milpMs = workLimited ? WORK_LIMITED_MILP_MS : Math.max(0, t.timeMs - (Date.now() - t0)) / (boxes.length - i);
    const r = milpNeuronSign(t.net, b, bounds, t.layer, t.index, t.sign < 0 ? 1 : -1, milpMs);
    if (r.status === 'refuted' && r.witness) return { status: 'refuted', witness: r.witness, method: 'milp' };
    if (r.status !== 'proved') return { status: 'unknown' };
  }
  return { status: 'proved', method: 'milp' };
}

/** The pool's entry point. */
export async function neuronTaskJob(t: NeuronTask): Promise<NeuronTaskResult> {
  await loadMilpSolver();
  return runNeuronTask(t);
}
