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
import { chooseSplit, widestInput } from '../search/split.ts';
import { splitBox } from '../../model/box.ts';
import { smearInput } from './diff-smear.ts';
import { BOX_LIMIT, MEMORY_LIMIT, boundsBytes, boxBytes, heldBounds, openCap } from '../search/limits.ts';

/** How an equivalence is decided: bounds, time and box limits, progress. */
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
  /** which input an open box is halved along: 'smear' (default: the worst output's gradient x width, diff-smear.ts),
   * 'widest' (relative to the domain), or 'trial' (every input tried, the best worse half kept) */
  split?: 'smear' | 'widest' | 'trial';
  /** linf mode: an amount each box adds to its bound of |f - g| (quantize: g's float32 evaluation error on that box,
   * from f's bounds and the difference's there); what is proved is then max |f - g| + slack <= epsilon */
  boxSlack?: (box: Box, fb: NetworkBounds, d: DiffBounds) => number;
  /** linf mode: the halves of a box scored above this x epsilon are split without bounding them (SKIP_FACTOR, the
   * default; 0: never) */
  skipFactor?: number;
  /** called now and then with the number of boxes processed, the open ones and the worst open box's score */
  onProgress?: (done: number, open: number, top?: number) => void;
}

/**
 * Input splitting pays with few inputs; with hundreds (an MNIST ball) halving one pixel's range barely moves any
 * bound, so a failed root box is not worth seconds of splitting: a few boxes, then "unknown".
 */
function defaultMaxBoxes(inputs: number): number {
  return inputs > 32 ? 4 : 2_000_000;
}

/** The open-box cap: the memory budget over a box, its key and f's bounds on it (the difference bounds are not kept). */
function defaultMaxOpen(net: Network): number {
  return openCap(boxBytes(net.inputSize) + boundsBytes(net) + 32);
}

/**
 * The difference is carried symbolically (as linear functions of the input) up to this many inputs: its cost grows
 * with n^2 x inputs per layer, and past a few dozen inputs one box costs more than the interval bounds gain.
 */
const SYMBOLIC_MAX_INPUTS = 32;

/**
 * Diff bounds of one box, with f's bounds computed on it (from its parent box's, where given): the output difference
 * also bounded backward, which keeps the cancellation between paths (with few inputs too: ACAS Xu 1_1 against its
 * float16-rounded weights, boxes of 100%, 25%, 5%, 1% of the domain's width: symbolic alone 1,128, 92, 0.021,
 * 1.1e-5; with the backward bound 700, 57, 0.013, 4.0e-6, where sampling finds 3.5e-6 at 1%; at about the same cost
 * per box). With few inputs the hidden layers' inexact neurons are bounded backward too, since their relaxations
 * are what the difference loses: ACAS Xu 1_9 against its float16 copy on the whole domain, 33.9 -> 6.9 in one pass,
 * a 1/8-wide box 1.19 -> 0.17 (sampling: 0.016 at layer 6), for 1.5-3 times the time of a box (with many inputs it
 * cost 5-20 times for 1.4 times tighter, diff-backward.ts).
 */
export function boxDiff(plan: DiffPlan, box: Box, opts: EquivOptions, parent?: NetworkBounds): { d: DiffBounds; fb: NetworkBounds } {
  const fb = opts.boundsFn(plan.pair.f, box, parent);
  const few = box.lo.length <= SYMBOLIC_MAX_INPUTS;
  return { d: differenceBounds(plan, box, fb, { symbolic: few, backward: true, hidden: few }), fb };
}

/** A box's score, the input to halve it along (-1: the widest relative to the domain), and f's bounds on it. */
export interface Scored {
  value: number;
  dim: number;
  fb?: NetworkBounds;
  /** the part of value that boxSlack added */
  slack?: number;
  /** the output whose bound is the score (linf) */
  out?: number;
}

/** An open box, with what its scoring found: the halves start from f's bounds on it (crownBounds' parent). */
export interface OpenBox {
  box: Box;
  dim: number;
  fb?: NetworkBounds;
  slack?: number;
  /** its score, and whether it was inherited from its parent (a box split without bounding its difference) */
  value?: number;
  inherited?: boolean;
  out?: number;
}

/**
 * The halves of a box scored above SKIP_FACTOR x epsilon are not bounded: they take their parent's score and f's
 * bounds (sound over a box that contains them) and are split at once; their halves are bounded as usual. Far above
 * epsilon a half almost never closes (ACAS Xu 1_9 on the whole domain: the bound falls by about a fifth per level),
 * so the bounds of every other level are saved where they could not close anything. ACAS Xu property 1's box at
 * 0.05, CPU to the proof: 2_7 10.7 -> 8.9 s, 3_8 8.5 -> 7.0 s, 2_2 3.7 -> 3.1 s (factor 4; factor 2 closed fewer
 * halves: 9.4 s on 2_7; 8: 7.5 s on 3_8). It makes the open bound at a time limit coarser (a box carries its
 * parent's score until it is split), so it is only used where epsilon is given.
 */
export const SKIP_FACTOR = 4;

/** f's bounds on a box and the input to halve it along, without its difference bounds (a skipped level). */
export type QuickScore = (b: Box, parent: NetworkBounds | undefined, out: number) => { dim: number; fb: NetworkBounds };

/**
 * A skipped level's work: f's bounds are the parent's (sound on the half; its halves tighten them), the input to
 * halve along the smear of output `out` from them (rule 'smear'). Computing f's own bounds here instead cost 10-15%
 * more CPU on ACAS Xu's property 1 box (2_7, 3_8 at 0.05).
 */
export function linfQuick(plan: DiffPlan, box: Box, opts: EquivOptions, parent: NetworkBounds | undefined, out: number): { dim: number; fb: NetworkBounds } {
  const fb = parent ?? heldBounds(opts.boundsFn(plan.pair.f, box));
  return { dim: (opts.split ?? 'smear') === 'smear' ? smearInput(plan.pair.f, fb, box, out) : -1, fb };
}

/** max |f - g| bounded on the box, and (rule 'smear') the input with the worst output's largest smear. */
export function linfScore(plan: DiffPlan, box: Box, opts: EquivOptions, parent?: NetworkBounds): Scored {
  const { d, fb } = boxDiff(plan, box, opts, parent);
  const k = d.lo.length - 1;
  let value = 0;
  let worst = 0;
  for (let i = 0; i < d.lo[k].length; i++) {
    const v = Math.max(-d.lo[k][i], d.hi[k][i]);
    if (v > value) {
      value = v;
      worst = i;
    }
  }
  const slack = opts.boxSlack ? opts.boxSlack(box, fb, d) : 0;
  return { value: value + slack, dim: (opts.split ?? 'smear') === 'smear' ? smearInput(plan.pair.f, fb, box, worst) : -1, fb: heldBounds(fb), slack, out: worst };
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
  readonly heap = new MaxHeap<OpenBox>();
  count = 0;
  private closedSlack = 0;
  readonly maxBoxes: number;
  readonly maxOpen: number;
  private nextReport = 256;

  constructor(
    private readonly score: (b: Box, parent?: NetworkBounds) => Scored,
    private readonly isOpen: (v: number) => boolean,
    private readonly onClosed: (v: number) => void,
    net: Network,
    private readonly opts: EquivOptions,
    /** with `quick`: the halves of a bounded box scored above this are not bounded (SKIP_FACTOR) */
    private readonly skipAbove = Infinity,
    private readonly quick?: QuickScore,
  ) {
    this.maxBoxes = opts.maxBoxes ?? defaultMaxBoxes(net.inputSize);
    this.maxOpen = opts.maxOpen ?? defaultMaxOpen(net);
  }

  /** The box's score (one box of work). */
  scoreBox(b: Box, parent?: NetworkBounds): Scored {
    this.count++;
    return this.score(b, parent);
  }

  /** Keeps the box, scored s, if it is open. */
  place(box: Box, s: Scored): void {
    if (this.isOpen(s.value)) this.heap.push(s.value, { box, dim: s.dim, fb: s.fb, slack: s.slack, value: s.value, out: s.out });
    else {
      this.closedSlack = Math.max(this.closedSlack, s.slack ?? 0);
      this.onClosed(s.value);
    }
  }

  /** The largest slack of the boxes the search ended with, closed or open (empties the heap: call it last). */
  finalSlack(): number {
    let m = this.closedSlack;
    for (let b = this.heap.pop(); b; b = this.heap.pop()) m = Math.max(m, b.slack ?? 0);
    return m;
  }

  /** Scores and places each box. */
  addAll(boxes: Box[]): void {
    for (const b of boxes) this.place(b, this.scoreBox(b));
  }

  /** Splits an open box (`root`: the domain's first box, the scale of the widths) and places its halves. */
  split(open: OpenBox, root: Box): void {
    const { box, dim, fb } = open;
    if (this.opts.split === 'trial') {
      const scored = new Map<Box, Scored>();
      const { children } = chooseSplit(box, root, (b) => {
        const s = this.scoreBox(b, fb);
        scored.set(b, s);
        return s.value;
      }, 'trial');
      children.forEach((ch) => this.place(ch, scored.get(ch)!));
    } else {
      const at = dim >= 0 && box.hi[dim] > box.lo[dim] ? dim : widestInput(box, root);
      const skip = this.quick && !open.inherited && open.value !== undefined && open.value > this.skipAbove;
      for (const ch of splitBox(box, at)) {
        if (!skip) this.place(ch, this.scoreBox(ch, fb));
        else {
          // not a box bounded: the work limit does not count it
          const q = this.quick!(ch, fb, open.out ?? 0);
          this.heap.push(open.value!, { box: ch, dim: q.dim, fb: q.fb, slack: open.slack, value: open.value, inherited: true, out: open.out });
        }
      }
    }
    if (this.opts.onProgress && this.count >= this.nextReport) {
      this.nextReport = this.count + 256;
      this.opts.onProgress(this.count, this.heap.size, this.heap.size ? this.heap.peekKey() : 0);
    }
  }

  /** Why the search must stop now (its memory, its work limit, or the clock since t0), or null. */
  stopReason(t0: number): string | null {
    if (!(Date.now() - t0 > this.opts.timeoutMs || this.count >= this.maxBoxes || this.heap.size > this.maxOpen)) return null;
    return this.heap.size > this.maxOpen ? MEMORY_LIMIT : this.count >= this.maxBoxes ? BOX_LIMIT : 'timeout';
  }
}
