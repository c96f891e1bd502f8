/**
 * Branch and bound on ReLU phases, for networks with many inputs (where halving an input barely tightens anything):
 * prove c . y + d > 0 over a box by splitting unstable neurons into their active and inactive halves, each node
 * bounded with optimised slopes and split multipliers (bounds/beta.ts). A node closes when its bound is > 0; the
 * box corner that minimises a node's bound is evaluated in plain arithmetic as a counterexample candidate. The
 * worst node is split first (its bound decides the overall one), on the one of the neurons whose relaxations cost it
 * most that gives the best children.
 */
import { forward, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { clipForSplit, splitLower, type ReluSplit, type SplitBoundState } from '../../bounds/beta.ts';
import { MaxHeap } from './heap.ts';
import { maximizeBySearch } from './search.ts';
import { milpAvailable } from './milp.ts';
import { regionArgmin } from './linear-region.ts';
import { BOX_LIMIT, MEMORY_LIMIT, heldBounds, openCap } from './limits.ts';

export interface ReluBabOptions {
  /** optimisation steps at the root (default 40) and per node (default 8) */
  rootIterations?: number;
  nodeIterations?: number;
  /** how many of the highest-scoring neurons are tried (both children bounded once) before a split (default BRANCH_CANDIDATES) */
  branchCandidates?: number;
  /** at most this many open nodes kept (default: 20,000, fewer when the network is so large that they would take more
   * than SEARCH_MEMORY_BYTES; each holds its slopes, scores and one layer of bounds, about 20 KB on MNIST 256x4):
   * past it the search gives up (unknown, `limit` 'memory limit') */
  maxOpen?: number;
  /** a work limit: at most this many nodes bounded (default none); past it the search gives up (unknown, `limit`
   * 'box limit'), at the same node on any machine */
  maxNodes?: number;
}

/** Bytes one open node holds (its slopes, scores and a layer of bounds: three numbers per neuron, generously). */
function nodeBytes(net: Network): number {
  let neurons = 0;
  for (const L of net.layers) neurons += L.outSize;
  return 24 * neurons + 1024;
}

/**
 * Neurons tried per split. Measured on MNIST 256x2 prop_1_0.03 (nine open constraints, 30 s each): with the single
 * best-scoring neuron, one constraint proved in 52 s and most open after 30 s; the best of 12 proves that one in
 * 1 s; the best of 48 proves all nine in 31 s (128 gives the same trees, slower).
 */
const BRANCH_CANDIDATES = 48;

/**
 * Descent steps from a node's minimising corner when looking for a counterexample, on every DESCENT_EVERY-th corner
 * only: a descent costs about as much as a node's bound, and on an unsat instance every one is wasted.
 */
const DESCENT_STEPS = 6;
const DESCENT_EVERY = 8;

const MAX_OPEN = 20_000;

/** Steps for a node with every neuron split or stable, and how many rounds (each doubling them) it may get. */
const STUCK_ITERATIONS = 200;
const MAX_STUCK_ROUNDS = 6;
/** Descent steps from a fully split node's corner: its bound is close to exact there, so a counterexample is likely. */
const STUCK_DESCENT_STEPS = 100;
/** Time limit of the LP over a fully split node's region. */
const LP_MS = 1000;

interface Node {
  splits: ReluSplit[];
  bounds: NetworkBounds;
  lower: number;
  scores: Float64Array[];
  state: SplitBoundState;
}

/** A node with every neuron split or stable whose bound is not yet > 0, and its optimisation rounds so far. */
type StuckNode = Node & { rounds: number };

/** c . y + d at x, in plain evaluation. */
function objectiveAt(net: Network, x: Float64Array, c: Float64Array, d: number): number {
  const y = forward(net, x);
  let s = d;
  for (let i = 0; i < c.length; i++) s += c[i] * y[i];
  return s;
}

/** The `count` unstable, unsplit neurons with the largest scores, best first. */
function topNeurons(node: Node, count: number): Array<{ layer: number; index: number }> {
  const top: Array<{ layer: number; index: number; score: number }> = [];
  for (let l = 0; l < node.scores.length; l++) {
    const sc = node.scores[l];
    for (let j = 0; j < sc.length; j++) {
      if (!(sc[j] > 0) || (top.length === count && sc[j] <= top[count - 1].score)) continue;
      if (top.length === count) top.pop();
      let at = top.length;
      while (at > 0 && top[at - 1].score < sc[j]) at--;
      top.splice(at, 0, { layer: l, index: j, score: sc[j] });
    }
  }
  return top;
}

/**
 * The unstable neuron below layer k with the widest relaxation gap, when no neuron scores (none as a list): the
 * scores weigh each gap by how much the objective and the split constraints lean on it, and where the relaxation
 * satisfies every split the multipliers go to 0 and can leave a whole layer at score 0 (a node whose splits make
 * its region empty but not its relaxation, with the deeper neurons all split inactive, scored nothing and was taken
 * for fully split: its bound never moved).
 */
function widestGap(net: Network, node: Node, k: number): Array<{ layer: number; index: number }> {
  let best: { layer: number; index: number } | null = null;
  let bestGap = 0;
  for (let l = 0; l < k; l++) {
    const L = net.layers[l];
    const { lo, hi } = node.bounds[l];
    for (let j = 0; j < L.outSize; j++) {
      if (!L.relu[j] || !(lo[j] < 0 && hi[j] > 0)) continue;
      const gap = (hi[j] * -lo[j]) / (hi[j] - lo[j]);
      if (gap > bestGap) {
        bestGap = gap;
        best = { layer: l, index: j };
      }
    }
  }
  return best ? [best] : [];
}

/**
 * One search, resumable: `run` continues it until a verdict or the deadline, so several searches (one per open
 * output constraint) can take turns. `bounds` are sound pre-activation bounds over the box (the tighter the better:
 * every node inherits them); the objective is over the network's outputs.
 */
export class ReluBab {
  nodes = 0;
  witness?: Float64Array;
  /** why an open search stopped short of a verdict: too many open nodes, or its work limit */
  limit?: typeof MEMORY_LIMIT | typeof BOX_LIMIT;
  private readonly maxOpen: number;
  private corners = 0;
  private readonly negC: Float64Array;
  private heap = new MaxHeap<Node>();
  /** nodes with every neuron split or stable whose bound stayed <= 0 after a long optimisation: never proved */
  private stuck: StuckNode[] = [];
  private status: 'proved' | 'refuted' | 'unknown' | 'open' = 'open';
  private readonly k: number;

  constructor(
    private readonly net: Network,
    private readonly box: Box,
    bounds: NetworkBounds,
    private readonly c: Float64Array,
    private readonly d: number,
    private readonly opts: ReluBabOptions = {},
  ) {
    this.k = net.layers.length - 1;
    this.maxOpen = opts.maxOpen ?? Math.min(MAX_OPEN, openCap(nodeBytes(net)));
    this.negC = c.map((v) => -v);
    this.nodes = 1;
    const root = splitLower(net, box, bounds, this.k, c, d, [], { iterations: opts.rootIterations ?? 40, target: 0 });
    if (root.lower > 0) this.status = 'proved';
    else if (!this.refutedAt(root.corner)) this.heap.push(-root.lower, { splits: [], bounds, lower: root.lower, scores: root.scores, state: root.state });
  }

  /** The best proved lower bound of c . y + d over the box so far (0 once proved, -Infinity when refuted). */
  get lower(): number {
    if (this.status === 'proved') return 0;
    let lo = this.heap.size ? -this.heap.peekKey() : Infinity;
    for (const s of this.stuck) lo = Math.min(lo, s.lower);
    return this.status === 'refuted' ? -Infinity : lo;
  }

  /** settled at construction or by `run` so far */
  get settled(): boolean {
    return this.status === 'proved' || this.status === 'refuted';
  }

  /** nodes waiting to be split */
  get openNodes(): number {
    return this.heap.size;
  }

  /** no more progress to make: no open node left yet not proved (a node's bound stayed <= 0 with every neuron
   * fixed), too many open nodes, or its work limit reached */
  get exhausted(): boolean {
    return this.status === 'open' && (this.heap.size === 0 || this.limit !== undefined);
  }

  /**
   * Is c . y + d <= 0 at x, or after a short sign-gradient descent from it? The corner that minimises a node's
   * relaxed bound points toward a counterexample but seldom sits on one (MNIST 256x4 prop_1_0.05: found after 43 s
   * of corners alone).
   */
  private refutedAt(x0: Float64Array, steps = DESCENT_STEPS): boolean {
    const { net, box, c, d } = this;
    let x = x0;
    let v = objectiveAt(net, x, c, d);
    if ((steps > DESCENT_STEPS || this.corners++ % DESCENT_EVERY === 0) && v > 0) {
      // the output layer is linear: its pre-activations are the outputs, so maximising -c . z is minimising c . y
      x = maximizeBySearch(net, box, net.layers.length - 1, this.negC, [x0], steps, 0.5).x;
      v = objectiveAt(net, x, c, d);
    }
    if (v > 0) return false;
    this.witness = x;
    this.status = 'refuted';
    return true;
  }

  /**
   * A node with every neuron split or stable has a polytope for its region (the box and one half-space per split)
   * on which the network is affine: an LP gives the exact minimiser of c . y + d there, a counterexample when the
   * minimum is <= 0, where the relaxed bound's corner need not even lie in the region. Needs the solver loaded.
   */
  private lpPoint(node: Node, deadline: number): Float64Array | undefined {
    if (!milpAvailable()) return undefined;
    const sign = new Map<number, 1 | -1>();
    for (const s of node.splits) sign.set(s.layer * 1_000_000 + s.index, s.sign);
    const phaseOf = (l: number, i: number): { active: boolean; enforce: boolean } => {
      const s = sign.get(l * 1_000_000 + i);
      // unsplit neurons are stable on the node: their sign needs no constraint
      return s !== undefined ? { active: s > 0, enforce: true } : { active: node.bounds[l].hi[i] > 0, enforce: false };
    };
    return regionArgmin(this.net, this.box, this.k, this.c, phaseOf, Math.min(LP_MS, deadline - Date.now()));
  }

  run(deadline: number): 'proved' | 'refuted' | 'unknown' {
    const { net, box, c, d, k, heap } = this;
    const nodeIt = this.opts.nodeIterations ?? 8;
    while (this.status === 'open' && heap.size > 0) {
      if (heap.size > this.maxOpen) this.limit = MEMORY_LIMIT;
      else if (this.nodes >= (this.opts.maxNodes ?? Infinity)) this.limit = BOX_LIMIT;
      if (Date.now() > deadline || this.limit) return 'unknown';
      const node = heap.pop()!;
      const top = topNeurons(node, this.opts.branchCandidates ?? BRANCH_CANDIDATES);
      const cands = top.length > 0 ? top : widestGap(net, node, k);
      let pick = cands[0];
      // more than one candidate: the one whose worse child is best with the parent's slopes and multipliers (one
      // back-substitution per child, no optimisation)
      if (cands.length > 1) {
        let bestV = -Infinity;
        for (const cand of cands) {
          let worst = Infinity;
          for (const sign of [1, -1] as const) {
            const split: ReluSplit = { layer: cand.layer, index: cand.index, sign };
            const r = splitLower(net, box, clipForSplit(node.bounds, split), k, c, d, [...node.splits, split], { iterations: 1, init: node.state });
            worst = Math.min(worst, r.lower);
          }
          if (worst > bestV) {
            bestV = worst;
            pick = cand;
          }
        }
      }
      if (!pick) {
        // every neuron stable or split: the bound is an LP's, reached when the multipliers converge
        this.nodes++;
        const r = splitLower(net, box, node.bounds, k, c, d, node.splits, { iterations: STUCK_ITERATIONS, target: 0, init: node.state });
        if (r.lower > 0 || this.refutedAt(r.corner, STUCK_DESCENT_STEPS)) continue;
        const lp = this.lpPoint(node, deadline);
        if (lp && this.refutedAt(lp, STUCK_DESCENT_STEPS)) return 'refuted';
        this.stuck.push({ ...node, lower: Math.max(node.lower, r.lower), state: r.state, rounds: 1 });
        continue;
      }
      for (const sign of [1, -1] as const) {
        const split: ReluSplit = { layer: pick.layer, index: pick.index, sign };
        const splits = [...node.splits, split];
        const b = clipForSplit(node.bounds, split);
        this.nodes++;
        const r = splitLower(net, box, b, k, c, d, splits, { iterations: nodeIt, target: 0, init: node.state });
        if (r.lower > 0) continue;
        if (this.refutedAt(r.corner)) return 'refuted';
        // the parent's bound holds on the child's smaller region too: the better of the two ranks it (a child's few
        // warm-started steps can end below its parent, and the search's bound would then move backwards)
        const lower = Math.max(r.lower, node.lower);
        heap.push(-lower, { splits, bounds: heldBounds(b), lower, scores: r.scores, state: r.state });
      }
    }
    // nothing left to split: the fully split nodes' multipliers get more steps, each round twice the last, while
    // time lasts (their bound tends to the LP optimum over the node's region, exact there)
    while (this.status === 'open' && heap.size === 0 && Date.now() <= deadline) {
      // the worst node that still has rounds left
      let at = -1;
      for (let i = 0; i < this.stuck.length; i++) {
        if (this.stuck[i].rounds < MAX_STUCK_ROUNDS && (at < 0 || this.stuck[i].lower < this.stuck[at].lower)) at = i;
      }
      if (at < 0) break;
      const node = this.stuck[at];
      const round = node.rounds;
      const r = splitLower(net, box, node.bounds, k, c, d, node.splits, { iterations: STUCK_ITERATIONS << round, target: 0, init: node.state, alphaStep: 0.3 / (1 << round), betaStep: 0.1 / (1 << round) });
      if (r.lower > 0) this.stuck.splice(at, 1);
      else if (this.refutedAt(r.corner)) return 'refuted';
      else this.stuck[at] = { ...node, lower: Math.max(node.lower, r.lower), state: r.state, rounds: round + 1 };
    }
    if (this.status === 'open' && heap.size === 0 && this.stuck.length === 0) this.status = 'proved';
    return this.status === 'open' ? 'unknown' : this.status;
  }
}

export type AllPositive = { status: 'proved'; nodes: number } | { status: 'unknown'; nodes: number; candidate?: Float64Array };

/**
 * Proves c . y + d > 0 for every objective on every box by the deadline, one search each. Those CROWN settles at
 * the root cost one bound; the rest share the time left, in turn (the hardest decides). A point where a search
 * fails is returned as a candidate only: the caller decides by plain evaluation what it shows.
 */
export function proveAllPositive(
  net: Network,
  boxes: Box[],
  objectives: Array<{ c: Float64Array; d: number }>,
  boundsFn: (net: Network, box: Box) => NetworkBounds,
  deadline: number,
  /** a work limit per search (nodes), for answers that do not depend on the machine's pace */
  maxNodes?: number,
): AllPositive {
  let nodes = 0;
  const open: ReluBab[] = [];
  for (const box of boxes) {
    const bounds = boundsFn(net, box);
    for (const { c, d } of objectives) {
      if (Date.now() > deadline) return { status: 'unknown', nodes };
      const bab = new ReluBab(net, box, bounds, c, d, maxNodes !== undefined ? { maxNodes } : {});
      nodes += bab.nodes;
      if (bab.witness) return { status: 'unknown', nodes, candidate: bab.witness };
      if (!bab.settled) open.push(bab);
    }
  }
  for (let i = 0; i < open.length; i++) {
    const share = (deadline - Date.now()) / (open.length - i);
    const before = open[i].nodes;
    const v = open[i].run(Date.now() + share);
    nodes += open[i].nodes - before;
    if (v !== 'proved') return { status: 'unknown', nodes, candidate: open[i].witness };
  }
  return { status: 'proved', nodes };
}
