/**
 * The census's vocabulary: what it answers (a phase per neuron), its options, the candidates it tries to prove, and
 * the shared input-splitting tree's job and result as plain data (the tree may run on the worker pool).
 */
import type { Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { BoundsFn } from '../bounds-fn.ts';

/** never / always active (proved), both (two witnesses evaluated), or unknown within the limits. */
export type Phase = 'never' | 'always' | 'both' | 'unknown';

/** One neuron's phase and how it was decided. */
export interface NeuronPhase {
  layer: number;
  index: number;
  phase: Phase;
  /** how it was decided: falsified (samples, search), bounds, input-split, relu-split, milp, task-witness; why not:
   * timeout, memory limit, box limit (the shared tree stopped there with the neuron open), refuted-one-way */
  method: string;
  /** for 'both': an input where the pre-activation is > 0 and one where it is < 0 */
  activeWitness?: Float64Array;
  inactiveWitness?: Float64Array;
}

/** The phase of every hidden ReLU over a domain, with counts and the work it took. */
export interface PhaseCensus {
  neurons: NeuronPhase[];
  counts: Record<Phase, number>;
  boxes: number;
  timeMs: number;
}

/** How the census runs: bounds, time and box limits, finishing tasks, progress. */
export interface PhaseOptions {
  boundsFn: BoundsFn;
  timeoutMs: number;
  samples?: number;
  /** a work limit: the shared tree bounds at most this many boxes (default 5,000,000), at the same box on any
   * machine */
  maxBoxes?: number;
  /** at most this many open boxes in the shared tree (default: SEARCH_MEMORY_BYTES over what one holds, limits.ts;
   * a part of the tree on the pool gets its share); past it the tree stops and leaves its neurons open */
  maxOpen?: number;
  seed?: number;
  /** which layers to examine (default: every hidden layer) */
  layers?: number[];
  /**
   * Prove only these claims (+1 always active, -1 never active), with no sampling: a fresh re-proof of facts found
   * earlier. Claims that cannot be proved in time come back 'unknown'.
   */
  claims?: Array<{ layer: number; index: number; sign: 1 | -1 }>;
  /** finish the candidates the shared tree leaves open (timeoutMs is the tree's limit) with one task each: branch
   * and bound aimed at the one neuron, then MILP when the solver is loaded (default on) */
  finish?: boolean;
  /** at most this many finishing tasks (default 64), the fewest open leaves first */
  finishTasks?: number;
  /** the tasks' total time (default timeoutMs; with many inputs plus timeoutMs, which the tree does not use),
   * shared evenly (each 0.1-10 s) unless finishTaskMs is given */
  finishBudgetMs?: number;
  finishTaskMs?: number;
  /** share of each task's time for branch and bound aimed at its neuron, before MILP (default 0.75) */
  finishSplitShare?: number;
  /** a work limit for each task's branch and bound (boxes, or ReLU-splitting nodes): the same verdicts on any machine
   * when the time limits are generous (default none) */
  finishMaxBoxes?: number;
  /**
   * how to choose the input to split: 'widest' (relative to the domain; default: on the 45 ACAS Xu networks, 3 s
   * tree + 1 s tasks, 389 unknown against smear's 407, both with the tree's optimised slopes since removed) or
   * 'smear' (the input that matters most to the worst open candidates)
   */
  splitRule?: 'smear' | 'widest';
  /** refine each open candidate by back-substitution (default on) */
  backSubstitute?: boolean;
  /** called as the shared tree decides neurons: neurons decided of the total, boxes bounded so far */
  onProgress?: (decided: number, total: number, boxes: number) => void;
  /** finishing tasks done / total, with a bound on the time they have left (all on one worker) */
  onFinishProgress?: (done: number, total: number, leftMs: number) => void;
  /** phaseCensusParallel: awaited between its rounds (the tree's parts, each round of finishing tasks), when no job
   * is in flight; it may throw to end the census (the library's AbortSignal) */
  pause?: () => Promise<void>;
}

/** Candidate neuron still open: layer, index, and the sign we try to prove (+1 always active, -1 never active). */
export interface Cand {
  id: number;
  layer: number;
  index: number;
  sign: 1 | -1;
}

/** Neurons whose finishing tasks may run MILP on their open leaves: at most this many leaves. */
export const MAX_LEAVES = 24;

/** One input-splitting tree of the census as plain data (so it can run on the worker pool). */
export interface TreeJob {
  net: Network;
  boxes: Box[];
  cands: Cand[];
  timeoutMs: number;
  maxBoxes: number;
  /** at most this many open boxes (default: no count; the open boxes may hold at most half of memoryBytes) */
  maxOpen?: number;
  /** the memory this tree may keep: its open boxes, and the bounds kept with the first of them */
  memoryBytes: number;
  /** the box around the whole domain: 'widest' is relative to it */
  hull: Box;
  splitRule: 'smear' | 'widest';
  backSubstitute: boolean;
  /** re-proving claims: stop early once every open claim is down to a few leaves (MILP finishes them) */
  claims: boolean;
  /** the bounds, by name, in a worker (functions do not cross threads) */
  bounds?: 'crown' | 'symbolic';
  /** tighten the roots' bounds with optimised slopes until the time limit (many inputs: the roots are the tree) */
  tightenRoots?: boolean;
}

export interface TreeResult {
  boxes: number;
  /** stopped with candidates open (out of time, memory or work) */
  timedOut: boolean;
  /** why: 'timeout', MEMORY_LIMIT or BOX_LIMIT */
  stopped?: string;
  /** inputs where a candidate's claim fails (plain evaluation): it is 'both' */
  witnesses: Array<{ id: number; x: Float64Array }>;
  /** the open leaves when time ran out, the candidates open on each (ids) and their bounds when kept */
  leaves: Array<{ box: Box; open: number[]; bounds?: NetworkBounds }>;
}

/** A neuron's key in the census's maps. */
export function neuronKey(layer: number, index: number): number {
  return layer * 1_000_000 + index;
}
