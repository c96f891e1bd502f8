/**
 * What the two checks on the difference bounds (equiv.ts: max |f - g|; equiv-class.ts: the same class) share: their
 * options, the bounds of one box, and the open boxes of an input-splitting branch and bound, split worst first,
 * with the work limit (boxes bounded), the memory limit (open boxes) and the clock.
 */
import type { Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import { differenceBounds, type DiffBounds } from './diff/diff-bounds.ts';
import type { DiffPlan } from './diff/diff-plan.ts';
import { MaxHeap } from '../search/heap.ts';
import { chooseSplit } from '../search/split.ts';
import { BOX_LIMIT, MEMORY_LIMIT, boxBytes, openCap } from '../search/limits.ts';

export interface EquivOptions {
  boundsFn: BoundsFn;
  outputLinearLower?: OutputLinearLower;
  timeoutMs: number;
  /** a work limit: at most this many boxes bounded (default 2,000,000; 4 with more than 32 inputs), then unknown,
   * reason 'box limit' (epsilon 0: the bound so far), at the same box on any machine */
  maxBoxes?: number;
  /** class mode, many inputs: a work limit (nodes) for each ReLU-splitting search on g (default none) */
  maxNodes?: number;
  /** at most this many open boxes (default SEARCH_MEMORY_BYTES over what one holds, limits.ts), then unknown, reason
   * 'memory limit' (epsilon 0: the bound so far) */
  maxOpen?: number;
  samples?: number;
  seed?: number;
  /** class mode: g's scores are only known within +-gSlack/2 (folding/rounding), so g's winner needs this lead */
  gSlack?: number;
  /** class mode: proved lower bounds of sigma (f_a - f_b) over every box (index a * m + b), e.g. class-margins.ts */
  fLower?: Float64Array;
  /** called now and then with the number of boxes processed and the open ones */
  onProgress?: (done: number, open: number) => void;
}

/**
 * Input splitting pays with few inputs; with hundreds (an MNIST ball) halving one pixel's range barely moves any
 * bound, so a failed root box is not worth seconds of splitting: a few boxes, then "unknown".
 */
function defaultMaxBoxes(inputs: number): number {
  return inputs > 32 ? 4 : 2_000_000;
}

/** The open-box cap: the memory budget over a box and its key (the difference bounds are not kept). */
function defaultMaxOpen(inputs: number): number {
  return openCap(boxBytes(inputs) + 32);
}

/**
 * The difference is carried symbolically (as linear functions of the input) up to this many inputs: its cost grows
 * with n^2 x inputs per layer, and past a few dozen inputs one box costs more than the interval bounds gain.
 */
const SYMBOLIC_MAX_INPUTS = 32;

/**
 * Diff bounds of one box, with f's bounds computed on it: the output difference also bounded backward, which keeps
 * the cancellation between paths (with few inputs too: ACAS Xu 1_1 against its float16-rounded weights, boxes of
 * 100%, 25%, 5%, 1% of the domain's width: symbolic alone 1,128, 92, 0.021, 1.1e-5; with the backward bound 700, 57,
 * 0.013, 4.0e-6, where sampling finds 3.5e-6 at 1%; at about the same cost per box).
 */
export function boxDiff(plan: DiffPlan, box: Box, opts: EquivOptions): { d: DiffBounds; fb: NetworkBounds } {
  const fb = opts.boundsFn(plan.pair.f, box);
  return { d: differenceBounds(plan, box, fb, { symbolic: box.lo.length <= SYMBOLIC_MAX_INPUTS, backward: true }), fb };
}

export function center(box: Box): Float64Array {
  const c = new Float64Array(box.lo.length);
  for (let i = 0; i < c.length; i++) c[i] = 0.5 * (box.lo[i] + box.hi[i]);
  return c;
}

/**
 * The open boxes of a branch and bound, by score (worst first). A scored box is kept when `isOpen` says so, else
 * handed to `onClosed`; `count` is the number of boxes scored, the work the box limit counts.
 */
export class OpenBoxes {
  readonly heap = new MaxHeap<Box>();
  count = 0;
  readonly maxBoxes: number;
  readonly maxOpen: number;
  private nextReport = 256;

  constructor(
    private readonly score: (b: Box) => number,
    private readonly isOpen: (v: number) => boolean,
    private readonly onClosed: (v: number) => void,
    net: Network,
    private readonly opts: EquivOptions,
  ) {
    this.maxBoxes = opts.maxBoxes ?? defaultMaxBoxes(net.inputSize);
    this.maxOpen = opts.maxOpen ?? defaultMaxOpen(net.inputSize);
  }

  /** The box's score (one box of work). */
  scoreBox(b: Box): number {
    this.count++;
    return this.score(b);
  }

  /** Keeps the box, scored v, if it is open. */
  place(box: Box, v: number): void {
    if (this.isOpen(v)) this.heap.push(v, box);
    else this.onClosed(v);
  }

  /** Scores and places each box. */
  addAll(boxes: Box[]): void {
    for (const b of boxes) this.place(b, this.scoreBox(b));
  }

  /** Splits the box (`root`: the domain's first box, the scale of the widths) and places its halves. */
  split(box: Box, root: Box): void {
    const { children, values } = chooseSplit(box, root, (b) => this.scoreBox(b));
    children.forEach((ch, i) => this.place(ch, values[i]));
    if (this.opts.onProgress && this.count >= this.nextReport) {
      this.nextReport = this.count + 256;
      this.opts.onProgress(this.count, this.heap.size);
    }
  }

  /** Why the search must stop now (its memory, its work limit, or the clock since t0), or null. */
  stopReason(t0: number): string | null {
    if (!(Date.now() - t0 > this.opts.timeoutMs || this.count >= this.maxBoxes || this.heap.size > this.maxOpen)) return null;
    return this.heap.size > this.maxOpen ? MEMORY_LIMIT : this.count >= this.maxBoxes ? BOX_LIMIT : 'timeout';
  }
}
