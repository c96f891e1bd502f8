/**
 * Partitions of a box as a binary split tree: a node cuts coordinate `dim` at `at`; x[dim] <= at goes left. The
 * leaves' boxes tile the root exactly (shared faces only), which the tree structure guarantees by construction.
 */
import { splitBox, type Box } from '../model/box.ts';
import { MaxHeap } from '../verify/search/heap.ts';

export type SplitTree = { leaf: number } | { dim: number; at: number; left: SplitTree; right: SplitTree };

export interface Partition {
  root: Box;
  tree: SplitTree;
  /** leaf boxes, indexed by the leaf numbers in the tree */
  boxes: Box[];
  /** a domain of several boxes (root is their hull; regions.ts); absent for one box */
  regions?: Box[];
  /** adaptive: cuts made although no cut of their box stabilised a neuron by the chooser's bounds */
  cutsWithoutGain?: number;
}

/** Every level halves every coordinate at its midpoint: 2^(d*levels) leaves. */
export function uniformPartition(root: Box, levels: number): Partition {
  const d = root.lo.length;
  const boxes: Box[] = [];
  const build = (box: Box, step: number): SplitTree => {
    if (step === d * levels) {
      boxes.push(box);
      return { leaf: boxes.length - 1 };
    }
    const dim = step % d;
    const at = 0.5 * (box.lo[dim] + box.hi[dim]);
    const [l, r] = splitBox(box, dim, at);
    return { dim, at, left: build(l, step + 1), right: build(r, step + 1) };
  };
  return { root, tree: build(root, 0), boxes };
}

export interface AdaptiveOptions {
  maxLeaves: number;
  maxDepth: number;
  /** the split for a box, with its gain (higher first; `blind`: no cut helped, this one halves the box); null = do
   * not split this box */
  choose: (box: Box) => { dim: number; at: number; gain: number; blind?: boolean } | null;
  /** stop splitting boxes whose best gain is at most this */
  minGain?: number;
}

/** Best-first: always split the leaf whose chosen split gains most; deterministic (ties: older leaf first). */
export function adaptivePartition(root: Box, opts: AdaptiveOptions): Partition {
  interface Node {
    box: Box;
    depth: number;
    choice: { dim: number; at: number; gain: number; blind?: boolean } | null;
    children?: [Node, Node];
    dim?: number;
    at?: number;
  }
  const mk = (box: Box, depth: number): Node => ({ box, depth, choice: depth < opts.maxDepth ? opts.choose(box) : null });
  const top = mk(root, 0);
  const heap = new MaxHeap<Node>();
  let seq = 0;
  const push = (n: Node): void => {
    if (n.choice && n.choice.gain > (opts.minGain ?? 0)) heap.push(n.choice.gain - 1e-9 * seq++, n);
  };
  push(top);
  let leaves = 1;
  let blind = 0;
  while (heap.size > 0 && leaves < opts.maxLeaves) {
    const n = heap.pop()!;
    if (n.choice!.blind) blind++;
    const { dim, at } = n.choice!;
    const [l, r] = splitBox(n.box, dim, at);
    n.children = [mk(l, n.depth + 1), mk(r, n.depth + 1)];
    n.dim = dim;
    n.at = at;
    leaves++;
    push(n.children[0]);
    push(n.children[1]);
  }
  const boxes: Box[] = [];
  const toTree = (n: Node): SplitTree => {
    if (!n.children) {
      boxes.push(n.box);
      return { leaf: boxes.length - 1 };
    }
    return { dim: n.dim!, at: n.at!, left: toTree(n.children[0]), right: toTree(n.children[1]) };
  };
  return { root, tree: toTree(top), boxes, cutsWithoutGain: blind };
}

/** The leaves' boxes, in leaf order, from a split tree and its root (a cut outside a box is clamped to it). */
export function leafBoxes(tree: SplitTree, root: Box, count: number): Box[] {
  const out: Box[] = new Array(count);
  const walk = (t: SplitTree, box: Box): void => {
    if ('leaf' in t) {
      out[t.leaf] = box;
      return;
    }
    const [left, right] = splitBox(box, t.dim, Math.min(Math.max(t.at, box.lo[t.dim]), box.hi[t.dim]));
    walk(t.left, left);
    walk(t.right, right);
  };
  walk(tree, root);
  return out;
}
