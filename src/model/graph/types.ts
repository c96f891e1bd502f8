/**
 * The graph model: one input tensor, one output tensor, operator nodes in topological order. Every tensor's shape
 * is stored WITHOUT the batch dimension (an image is [3, 32, 32]); data is row-major Float64Array, a batch laid out
 * as [batch, ...shape]. Nodes are plain data typed per operator; each operator's shape rule and forward kernel live
 * in ops/ and are reached through registry.ts.
 */

export type Shape = readonly number[];

/** A constant tensor (weights, biases, per-channel factors), row-major. */
export interface Tensor {
  readonly shape: Shape;
  readonly data: Float64Array;
}

export interface Pool2d {
  /** [kh, kw] */
  readonly kernel: readonly [number, number];
  /** [sh, sw] */
  readonly strides: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
}

export interface ConvAttrs extends Pool2d {
  /** [dh, dw] */
  readonly dilations: readonly [number, number];
  readonly group: number;
}

export interface MaxPoolAttrs extends Pool2d {
  readonly dilations: readonly [number, number];
  /** output size rounded up: windows may run past the padding (those positions are ignored) */
  readonly ceil: boolean;
}

export interface AvgPoolAttrs extends Pool2d {
  /** divide by the whole window (padding counted as zeros) rather than by the positions inside the input */
  readonly countIncludePad: boolean;
}

export interface SoftmaxAttrs {
  /** per-sample axis */
  readonly axis: number;
  /** normalise over all axes from `axis` to the end, flattened (ONNX before opset 13); false: `axis` alone */
  readonly toEnd: boolean;
}

type Empty = Record<string, never>;

interface NodeOf<O extends string, A, P> {
  /** the ONNX node's name, or '#index' when it had none */
  readonly name: string;
  readonly op: O;
  /** tensor names: data inputs only (constants are in params) */
  readonly inputs: readonly string[];
  readonly output: string;
  readonly attrs: A;
  readonly params: P;
}

/** y = conv(x, weight [O, C/group, kh, kw]) + bias [O] */
export type ConvNode = NodeOf<'conv', ConvAttrs, { weight: Tensor; bias: Tensor }>;
/** y = W x + b on the last axis: weight [out, in], bias [out] */
export type DenseNode = NodeOf<'dense', Empty, { weight: Tensor; bias: Tensor }>;
/** two data tensors, numpy broadcasting (the batch is shared) */
export type BinaryNode = NodeOf<'add' | 'sub' | 'mul' | 'div', Empty, Empty>;
/** y = x * scale + shift, scale and shift of x's rank, each axis 1 (broadcast) or x's size */
export type AffineNode = NodeOf<'affine', Empty, { scale: Tensor; shift: Tensor }>;
/**
 * y = x * scale[c] + shift[c] on axis 0 (channels): BatchNormalization folded at load. The source's own parameters
 * (gamma, beta, mean, variance [C], epsilon) are kept when read from a file, so that writing them back gives the
 * same numbers (the folded float64 scale and shift would round if written in float32); when present they fold to
 * exactly scale and shift.
 */
export type BatchNormNode = NodeOf<'batchnorm', { epsilon?: number }, BatchNormParams>;
export interface BatchNormParams {
  scale: Tensor;
  shift: Tensor;
  gamma?: Tensor;
  beta?: Tensor;
  mean?: Tensor;
  variance?: Tensor;
}
export type UnaryNode = NodeOf<'relu' | 'sigmoid' | 'tanh', Empty, Empty>;
export type LeakyReluNode = NodeOf<'leakyrelu', { alpha: number }, Empty>;
/** y = x >= 0 ? x : slope * x, slope broadcast as an affine scale */
export type PReluNode = NodeOf<'prelu', Empty, { slope: Tensor }>;
/** y = min(max(x, min), max); either may be infinite */
export type ClipNode = NodeOf<'clip', { min: number; max: number }, Empty>;
export type MaxPoolNode = NodeOf<'maxpool', MaxPoolAttrs, Empty>;
export type AvgPoolNode = NodeOf<'averagepool', AvgPoolAttrs, Empty>;
/** [C, H, W] -> [C, 1, 1] */
export type GlobalAvgPoolNode = NodeOf<'globalaveragepool', Empty, Empty>;
/** per-sample axis */
export type ConcatNode = NodeOf<'concat', { axis: number }, Empty>;
/** data unchanged in row-major order: only the shape changes (Flatten, Reshape, Squeeze, Unsqueeze) */
export type ReshapeNode = NodeOf<'reshape', { shape: Shape }, Empty>;
/** per-sample permutation: output axis i is input axis perm[i] */
export type TransposeNode = NodeOf<'transpose', { perm: readonly number[] }, Empty>;
/** constant padding: pads = [begin of each axis..., end of each axis...], per-sample axes, all >= 0 */
export type PadNode = NodeOf<'pad', { pads: readonly number[]; value: number }, Empty>;
export type SoftmaxNode = NodeOf<'softmax' | 'logsoftmax', SoftmaxAttrs, Empty>;

/** One operator node of a graph: its op, input and output tensors, attributes and parameters. */
export type GraphNode =
  | ConvNode
  | DenseNode
  | BinaryNode
  | AffineNode
  | BatchNormNode
  | UnaryNode
  | LeakyReluNode
  | PReluNode
  | ClipNode
  | MaxPoolNode
  | AvgPoolNode
  | GlobalAvgPoolNode
  | ConcatNode
  | ReshapeNode
  | TransposeNode
  | PadNode
  | SoftmaxNode;

export type OpName = GraphNode['op'];
export type NodeOfOp<O extends OpName> = Extract<GraphNode, { op: O }>;

export interface GraphInput {
  readonly name: string;
  readonly shape: Shape;
  /** the batch dimension as the source declared it: a fixed size or a symbolic name (kept for writing back) */
  readonly batch: number | string;
}

/** A graph network: one input tensor, operator nodes in topological order, one output; shapes are per sample (the batch is dynamic). */
export interface Graph {
  readonly input: GraphInput;
  readonly output: { readonly name: string; readonly shape: Shape };
  readonly nodes: readonly GraphNode[];
  /** every tensor's shape (input, every node's output), without the batch */
  readonly shapes: ReadonlyMap<string, Shape>;
  /** the ONNX opset the graph was read from, when it was (kept for writing back) */
  readonly opset?: number;
  /** the source's element type, when read from a file (kept for writing back) */
  readonly precision?: 'float32' | 'float64';
}
