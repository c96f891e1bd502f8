/**
 * The census's shared input-splitting tree: every leaf box carries the candidates still open on it; sound bounds on
 * the leaf settle most of them, the leaf centre may refute some (globally), and the leaf is split while candidates
 * stay open. It stops at its time, work (boxes) or memory limit and hands back the open leaves, for the finishing
 * tasks. Plain data in and out, so it runs on the worker pool as well (censusTreeJob).
 */
import { forwardTrace, type Network } from '../../model/network.ts';
import { boxCenter, splitBox, type Box } from '../../model/box.ts';
import { MaxHeap } from '../search/heap.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { BoundsFn } from '../bounds-fn.ts';
import { chooseSplit } from '../search/split.ts';
import { backwardBound, crownBounds } from '../../bounds/backward.ts';
import { symbolicBounds } from '../../bounds/symbolic.ts';
import { alphaCrownBounds } from '../../bounds/alpha.ts';
import { claimFails } from './neuron-task.ts';
import { BOX_LIMIT, MEMORY_LIMIT, boundsBytes, boxBytes, heldBounds, openCap } from '../search/limits.ts';
import { MAX_LEAVES, type Cand, type TreeJob, type TreeResult } from './types.ts';

/** A box's candidates after its bounds: those still open, how far each is from settled, their sum, the bounds. */
interface Settled {
  rest: Cand[];
  gaps: number[];
  excess: number;
  bounds: NetworkBounds;
}

interface TreeNode {
  box: Box;
  open: Cand[];
  gaps: number[];
  depth: number;
  bounds?: NetworkBounds;
}

/** The pool's entry point for one tree (bounds by name). */
export function censusTreeJob(job: TreeJob): TreeResult {
  return runTree(job, job.bounds === 'symbolic' ? symbolicBounds : crownBounds);
}

/** Runs the tree to its end or its limits. */
export function runTree(job: TreeJob, boundsFn: BoundsFn, onProgress?: (open: number, boxes: number) => void): TreeResult {
  return new CensusTree(job, boundsFn, onProgress).run();
}

class CensusTree {
  private readonly t0 = Date.now();
  private readonly net: Network;
  private readonly cands: Cand[];
  private readonly n: number;
  /** leaves on which the candidate is still open */
  private readonly openLeaves: Int32Array;
  /** refuted somewhere: stop working on it */
  private readonly dead: Uint8Array;
  private readonly witnesses: TreeResult['witnesses'] = [];
  private boxes = 0;
  private readonly heap = new MaxHeap<TreeNode>();
  /** crownBounds already back-substitutes every unstable neuron: a second pass per candidate would repeat it */
  private readonly backSub: boolean;
  private readonly coef: Float64Array;
  /** a box's bounds are needed only up to the deepest candidate still open on it: the network cut there is cheaper
   * to bound (boxes where only shallow neurons are open cost a fraction of a full pass) */
  private readonly cut: Network[];
  /** half the memory for the bounds kept with the first open boxes (at most 20,000 of them), half for the boxes: a
   * box holds its corners and the candidates open on it with their gaps; `held` counts what the open boxes hold */
  private readonly keepBounds: number;
  private readonly maxOpen: number;
  private held = 0;

  constructor(
    private readonly job: TreeJob,
    private readonly boundsFn: BoundsFn,
    private readonly onProgress?: (open: number, boxes: number) => void,
  ) {
    const net = job.net;
    this.net = net;
    this.cands = job.cands;
    this.n = net.inputSize;
    this.openLeaves = new Int32Array(this.cands.length);
    this.dead = new Uint8Array(this.cands.length);
    this.backSub = job.backSubstitute && boundsFn !== crownBounds;
    this.coef = new Float64Array(this.n);
    this.cut = net.layers.map((_, k) => ({ inputSize: net.inputSize, layers: net.layers.slice(0, k + 1) }));
    this.keepBounds = Math.min(20_000, openCap(boundsBytes(net), job.memoryBytes / 2));
    this.maxOpen = job.maxOpen ?? Infinity;
  }

  run(): TreeResult {
    const { job, heap } = this;
    job.boxes.forEach((b, i) => this.push(b, this.settle(b, this.cands, undefined, job.tightenRoots ? this.t0 + (job.timeoutMs * (i + 1)) / job.boxes.length : undefined), 0));
    // input splitting gets the whole time limit; the MILP tasks after it have limits of their own
    let timedOut = false;
    let stopped: string | undefined;
    let nextReport = 64;
    let nextStallCheck = 256;
    while (heap.size > 0) {
      if (Date.now() - this.t0 > job.timeoutMs || this.boxes >= job.maxBoxes || this.full()) {
        timedOut = true;
        stopped = this.full() ? MEMORY_LIMIT : this.boxes >= job.maxBoxes ? BOX_LIMIT : 'timeout';
        break;
      }
      // re-proving claims: once every open claim is down to a few leaf boxes, MILP there is quicker than more splits
      // (the census got its MILP facts the same way)
      if (job.claims && this.boxes >= nextStallCheck) {
        nextStallCheck = this.boxes + 256;
        if (this.claimsReady() && Date.now() - this.t0 > 0.2 * job.timeoutMs) {
          timedOut = true;
          break;
        }
      }
      if (!this.step(heap.pop()!)) continue;
      if (this.onProgress && this.boxes >= nextReport) {
        nextReport = this.boxes + 64;
        this.onProgress(this.openCount(), this.boxes);
      }
    }
    return { boxes: this.boxes, timedOut, ...(stopped ? { stopped } : {}), witnesses: this.witnesses, leaves: timedOut ? this.leaves() : [] };
  }

  private full(): boolean {
    return this.heap.size > this.maxOpen || this.held > this.job.memoryBytes / 2;
  }

  /** Every open claim is down to a few leaves (or near the input). */
  private claimsReady(): boolean {
    const { cands, dead, openLeaves } = this;
    for (let i = 0; i < cands.length; i++) if (!dead[i] && openLeaves[i] > MAX_LEAVES / 2 && cands[i].layer > 2) return false;
    return true;
  }

  private openCount(): number {
    let open = 0;
    for (let i = 0; i < this.cands.length; i++) if (!this.dead[i] && this.openLeaves[i] > 0) open++;
    return open;
  }

  /** One leaf: its centre may refute candidates; then it is split, and its halves bounded (false: nothing left
   * open on it, not split). */
  private step(node: TreeNode): boolean {
    const { dead } = this;
    for (const c of node.open) this.openLeaves[c.id]--;
    this.held -= this.boxHolds(node.open.length);
    const open = node.open.filter((c) => !dead[c.id]);
    if (open.length === 0) return false;
    this.refuteAt(boxCenter(node.box), open);
    const still = open.filter((c) => !dead[c.id]);
    if (still.length === 0) return false;
    const dim = this.job.splitRule === 'smear' ? this.smearDim(node, still) : -1;
    if (dim >= 0) {
      for (const ch of splitBox(node.box, dim)) this.push(ch, this.settle(ch, still, node.bounds), node.depth + 1);
      return true;
    }
    const seen = new Map<Box, Settled>();
    const { children } = chooseSplit(
      node.box,
      this.job.hull,
      (bx) => {
        const r = this.settle(bx, still, node.bounds);
        seen.set(bx, r);
        return r.rest.length + r.excess;
      },
      'widest',
    );
    for (const ch of children) this.push(ch, seen.get(ch) ?? this.settle(ch, still, node.bounds), node.depth + 1);
    return true;
  }

  /** The input the smear rule splits (-1: none, split the widest). */
  private smearDim(node: TreeNode, still: Cand[]): number {
    const gaps = node.open.map((c, i) => (this.dead[c.id] ? -1 : node.gaps[i])).filter((g) => g >= 0);
    const dimScore = this.smear(node.box, node.bounds ?? this.boundsFn(this.net, node.box), still, gaps);
    let dim = -1;
    for (let t = 0; t < this.n; t++) if (node.box.hi[t] > node.box.lo[t] && (dim < 0 || dimScore[t] > dimScore[dim])) dim = t;
    if (dim >= 0 && !(dimScore[dim] > 0)) dim = -1;
    return dim;
  }

  /** Bounds the box (`parent`: sound bounds over a box holding it; tightenUntil: optimise slopes until then). */
  private settle(box: Box, open: Cand[], parent?: NetworkBounds, tightenUntil?: number): Settled {
    const { dead } = this;
    this.boxes++;
    let deepest = 0;
    for (const c of open) if (!dead[c.id] && c.layer > deepest) deepest = c.layer;
    let b = this.boundsFn(this.cut[deepest], box, parent);
    if (tightenUntil !== undefined) b = alphaCrownBounds(this.cut[deepest], box, b, 8, tightenUntil);
    const rest: Cand[] = [];
    const gaps: number[] = [];
    let excess = 0;
    for (const c of open) {
      if (dead[c.id]) continue;
      const gap = this.gap(box, b, c);
      if (gap === null) continue;
      excess += gap;
      gaps.push(gap);
      rest.push(c);
    }
    return { rest, gaps, excess, bounds: b };
  }

  /** null when the bounds settle c on the box; else how far they are from it, relative to the neuron's range
   * (guides the choice of split). */
  private gap(box: Box, b: NetworkBounds, c: Cand): number | null {
    let lo = b[c.layer].lo[c.index];
    let hi = b[c.layer].hi[c.index];
    if (c.sign < 0 ? hi <= 0 : lo >= 0) return null;
    // back-substitution for this one neuron: tighter than forward bounds on deep layers, and cheap
    if (c.layer > 0 && this.backSub) {
      const e = unit(this.net.layers[c.layer].outSize, c.index);
      const r = backwardBound(this.net, box, b, c.layer, e, 0, c.sign < 0 ? 'upper' : 'lower');
      lo = Math.max(lo, r.lo);
      hi = Math.min(hi, r.hi);
      if (c.sign < 0 ? hi <= 0 : lo >= 0) return null;
    }
    // (No optimised slopes here: with the widest split the boxes they would close cost less to split; 45 ACAS Xu
    // networks, 3 s + 1 s tasks: 389 unknown with them for candidates within a fifth of settled, 381 without.)
    return c.sign < 0 ? hi / (hi - lo + 1e-300) : -lo / (hi - lo + 1e-300);
  }

  /**
   * Which input matters most for the open candidates furthest from settled: |coefficient| x width of their linear
   * bounds (ReluVal's "smear"), summed over the worst few; splitting there shrinks their bounds fastest. Computed
   * when a box is split, not when it is bounded (most bounded boxes are never split).
   */
  private smear(box: Box, b: NetworkBounds, rest: Cand[], gaps: number[]): Float64Array {
    const { n, net, coef } = this;
    const dimScore = new Float64Array(n);
    const order = rest.map((_, i) => i).sort((a, z) => gaps[z] - gaps[a]).slice(0, 3);
    for (const i of order) {
      const c = rest[i];
      if (c.layer === 0) {
        for (let t = 0; t < n; t++) coef[t] = net.layers[0].weights[c.index * n + t];
      } else {
        backwardBound(net, box, b, c.layer, unit(net.layers[c.layer].outSize, c.index), 0, c.sign < 0 ? 'upper' : 'lower', coef);
      }
      let tot = 0;
      for (let t = 0; t < n; t++) tot += Math.abs(coef[t]) * (box.hi[t] - box.lo[t]);
      if (!(tot > 0)) continue;
      for (let t = 0; t < n; t++) dimScore[t] += (gaps[i] * Math.abs(coef[t]) * (box.hi[t] - box.lo[t])) / tot;
    }
    return dimScore;
  }

  private refuteAt(x: Float64Array, open: Cand[]): void {
    const tr = forwardTrace(this.net, x, 1);
    for (const c of open) {
      if (this.dead[c.id]) continue;
      if (claimFails(c.sign, tr.pre[c.layer][c.index])) {
        this.witnesses.push({ id: c.id, x: x.slice() });
        this.dead[c.id] = 1;
      }
    }
  }

  private boxHolds(open: number): number {
    return boxBytes(this.n) + 16 * open + 64;
  }

  private push(box: Box, r: Settled, depth: number): void {
    const open = r.rest;
    if (open.length === 0) return;
    for (const c of open) this.openLeaves[c.id]++;
    this.held += this.boxHolds(open.length);
    // the children start from these bounds (sound on every sub-box); past a large frontier, memory comes first
    const bounds = this.heap.size < this.keepBounds ? heldBounds(r.bounds) : undefined;
    this.heap.push(open.length - depth * 1e-3, { box, open, gaps: r.gaps, depth, bounds });
  }

  /** What is left open: the leaves, with the candidates still open on each. */
  private leaves(): TreeResult['leaves'] {
    const leaves: TreeResult['leaves'] = [];
    for (const node of this.heap.drain()) {
      const open = node.open.filter((c) => !this.dead[c.id]).map((c) => c.id);
      if (open.length) leaves.push({ box: node.box, open, ...(node.bounds ? { bounds: node.bounds } : {}) });
    }
    return leaves;
  }
}

/** The unit vector e_i of length n, cached (objectives of one neuron's bound, built once per neuron). */
const units = new Map<string, Float64Array>();
function unit(n: number, i: number): Float64Array {
  const k = `${n}:${i}`;
  let u = units.get(k);
  if (!u) {
    u = new Float64Array(n);
    u[i] = 1;
    units.set(k, u);
  }
  return u;
}
