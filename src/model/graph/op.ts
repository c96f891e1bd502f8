/** What every operator provides: its shape rule and its forward kernel (bound rules come in their own files). */
import type { NodeOfOp, OpName, Shape } from './types.ts';

export interface OpDef<O extends OpName> {
  /**
   * The output shape from the input shapes, or a message saying what does not fit (the caller names the node).
   * Also checks the node's own attributes and parameters against the shapes.
   */
  infer(node: NodeOfOp<O>, inShapes: readonly Shape[]): Shape | string;
  /** The output for a batch: inputs are [batch, ...inShapes[i]] row-major, the result [batch, ...outShape]. */
  forward(node: NodeOfOp<O>, inputs: readonly Float64Array[], inShapes: readonly Shape[], outShape: Shape, batch: number): Float64Array;
  /** the number of data inputs: a fixed count, or 'many' (concat) */
  arity: number | 'many';
}
