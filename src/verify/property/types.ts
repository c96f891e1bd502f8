/**
 * What a property search answers (PropertyResult) and how it may search (PropertyOptions): shared by the search
 * with few inputs (property.ts) and the one with many (many-inputs.ts).
 */
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import type { SplitStrategy } from '../search/input-split.ts';

/** A property's verdict: sat (with a counterexample re-checked by evaluation), unsat or unknown, and the work it took. */
export interface PropertyResult {
  result: 'sat' | 'unsat' | 'unknown';
  counterexample?: { x: number[]; y: number[] };
  boxes: number;
  timeMs: number;
  reason?: string;
}

/** How a property is decided: bounds, time and box limits, progress. */
export interface PropertyOptions {
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  timeoutMs: number;
  /** samples per region before any bounding (default 2,000; 500 with many inputs) */
  samples?: number;
  seed?: number;
  /** how to pick the input to split: 'smear' (default: the top inputs by smear, as the strategies say) or 'trial'
   * (bound both halves for every input, keep the best) */
  split?: 'smear' | 'trial';
  /** the split strategies that take turns (default DEFAULT_STRATEGIES) */
  strategies?: SplitStrategy[];
  /** local descents from the closest samples, per region and conjunction (default 16; 4 with many inputs) */
  descents?: number;
  /** gradient steps on the lower relaxation slopes of each open constraint's bound, per box (default 8; 0: CROWN's
   * fixed slopes). On VNN-COMP ACAS Xu it halves the boxes per second and still decides more, sooner. */
  alphaSteps?: number;
  /** now and then: what the search is doing, boxes bounded so far, boxes open, time left (ms) */
  onProgress?: (phase: string, boxes: number, open: number, leftMs: number) => void;
  /** a deeper falsification round between split strategies (default on) */
  deepFalsify?: boolean;
  /** sound bounds already known over each region's box (children start from them) */
  regionBounds?: NetworkBounds[];
  /** the box relative to whose widths the 'widest' rule measures (regions cut from one domain: the domain) */
  splitScale?: Box;
  /** after falsification, bounds + ReLU splitting + MILP (as with many inputs) instead of input splitting: for
   * questions where the same hyperplanes cross the box twice (two networks side by side), which no input split
   * separates but a phase split settles */
  reluSplitting?: boolean;
  /**
   * open boxes of the split tree expanded per step (default 1): the most open ones. The tree's boxes and splits do
   * not depend on it (a box's step depends on the box alone; to prove unsat every open box is split anyway), only
   * the order, so what it changes is how soon a counterexample or the time limit comes; decidePropertyOnPool
   * spreads each step's boxes over the workers
   */
  batch?: number;
  /**
   * at most this many open boxes in a split tree (default: SEARCH_MEMORY_BYTES over what one holds, its box and
   * bounds; limits.ts); past it the tree stops, and the answer, when no other tree decides, is unknown with
   * reason 'memory limit'. With many inputs: the ReLU-splitting searches' open nodes (their own default otherwise)
   */
  maxOpen?: number;
  /**
   * a work limit: at most this many boxes bounded by the split trees (shared among the strategies like the time), or
   * ReLU-splitting nodes with many inputs, each search that many; past it: unknown, reason 'box limit', at the same
   * box on any machine
   */
  maxBoxes?: number;
}
