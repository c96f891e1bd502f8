/**
 * Sound bounds on graphs: the types every bound rule and engine shares. A tensor's bounds are lo / hi per element
 * (per-sample shape, row-major) plus `mag`: per element, an upper bound of the sum of |terms| that produced it from
 * its inputs (|weights| x |inputs| + |bias| for a linear op), which sizes the outward rounding of every later use.
 */
import type { GraphNode, NodeOfOp, OpName, Shape } from '../../model/graph/types.ts';

export interface Itv {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** per element: >= sum of |terms| producing it (and >= max(|lo|, |hi|)) */
  readonly mag: Float64Array;
}

/** Bounds of every tensor computed so far, by tensor name (the graph input's is the box). */
export type TensorBounds = Map<string, Itv>;

/** What a rule sees of a node: the node, its inputs' shapes and current bounds, its output's shape. */
export interface ViewBase {
  readonly node: GraphNode;
  readonly inShapes: readonly Shape[];
  readonly outShape: Shape;
  readonly ins: readonly Itv[];
}
export interface NodeView<O extends OpName = OpName> extends ViewBase {
  readonly node: NodeOfOp<O>;
}

/** A node seen by its backward step: its output's bounds too (computed before any bound needs the node). */
export interface BackViewBase extends ViewBase {
  readonly out: Itv;
}
export interface BackView<O extends OpName = OpName> extends NodeView<O>, BackViewBase {
  readonly node: NodeOfOp<O>;
}

/** Per-element lower slopes of a ReLU-like node's relaxation in [0, 1] (alpha); absent: CROWN's adaptive choice. */
export type Slopes = ReadonlyMap<string, Float64Array>;

/**
 * The backward step of one node for S linear functions ("rows") of its output: A_out (S x outSize) such that, for
 * every row s and every input point, A_out[s] . out >= sum_k ins[k][s] . input_k + bias[s] (up to rounding that
 * REL x mag[s] covers). An input's coefficients may be null (the rule does not depend on it).
 */
export interface BackResult {
  readonly ins: readonly (Float64Array | null)[];
  readonly bias: Float64Array;
  /** per row: the sum of |terms| the rule formed (its rounding is widened for) */
  readonly mag: Float64Array;
  /**
   * For one row (S = 1): the value of the linear relaxation the rule used, at given input values (the optimised
   * slopes' gradient needs it). Absent: the node is linear, its own forward kernel is its relaxation.
   */
  readonly relaxed?: (ins: readonly (Float64Array | undefined)[]) => Float64Array;
}

export interface BoundRule<O extends OpName = OpName> {
  /** sound elementwise bounds of the output from the inputs' bounds */
  interval(v: NodeView<O>): Itv;
  /** the backward linear step (lower-bounding A_out . out); `slopes` when the node is ReLU-like and optimised */
  backward(v: BackView<O>, A: Float64Array, S: number, slopes?: Float64Array): BackResult;
  /** neurons of the INPUT worth tightening by CROWN before this node relaxes it: all (true) or a mask of them */
  refine?(v: NodeView<O>): boolean | Uint8Array;
  /** ReLU-like: default lower slopes of its unstable inputs (to start optimising from), undefined elsewhere */
  initialSlopes?(v: NodeView<O>): Float64Array;
}

/** A bound that cannot be given on this box (a divisor's interval containing 0): a one-line reason naming the node. */
export class BoundRefused extends Error {
  constructor(node: GraphNode, why: string) {
    super(`node '${node.name}' (${node.op}): ${why}`);
    this.name = 'BoundRefused';
  }
}
