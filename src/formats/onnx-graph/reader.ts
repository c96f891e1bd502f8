/**
 * The reader's state while it walks an ONNX graph in order: constants (initializers and everything folded from
 * them), data tensors with their per-sample shapes, aliases (Identity, Dropout, no-op reshapes) and the nodes of
 * the graph model emitted so far, each shape-checked as it is emitted.
 */
import { fail, quote } from '../../errors.ts';
import type { ONode } from '../onnx-schema.ts';
import type { GraphNode, Shape } from '../../model/graph/types.ts';
import { opDef } from '../../model/graph/registry.ts';

/** A constant with its full ONNX shape; `int` for integer tensors (shape arithmetic divides by truncation). */
export interface Const {
  shape: number[];
  data: Float64Array;
  int: boolean;
}

/**
 * In a constant folded from Shape(data), the batch size, which is not known at load. NaN carries through
 * arithmetic, so anything computed from the batch is recognised where it is used (Reshape's first entry).
 */
export const BATCH = NaN;

/** Reads node `n` (named `name` in the graph model; `at` names it in errors) into the reader's state: one per ONNX
 * operator, in the convert-*.ts tables (here, beside the Reader, so the tables need not import their index). */
export type Converter = (r: Reader, n: ONode, at: string, name: string) => void;

export class Reader {
  readonly consts = new Map<string, Const>();
  readonly data = new Map<string, Shape>();
  readonly alias = new Map<string, string>();
  readonly nodes: GraphNode[] = [];

  constructor(
    readonly path: string,
    readonly opset: number,
    /** the batch size the input declares, when fixed */
    readonly fixedBatch: number | undefined,
  ) {}

  resolve(name: string): string {
    return this.alias.get(name) ?? name;
  }

  isConst(name: string): boolean {
    return this.consts.has(this.resolve(name));
  }

  /** A constant operand, or a one-line error saying it must be one. */
  constOf(name: string | undefined, at: string, what = 'operand'): Const {
    const c = name ? this.consts.get(this.resolve(name)) : undefined;
    return c ?? fail(`${at}: ${what} ${quote(name ?? '')} must be a constant`);
  }

  /** A data operand's tensor name and per-sample shape. */
  dataOf(name: string | undefined, at: string, what = 'operand'): [string, Shape] {
    const t = this.resolve(name ?? '');
    const s = this.data.get(t);
    if (!s) fail(`${at}: ${what} ${quote(name ?? '')} must be the network's data, not a constant`);
    return [t, s];
  }

  setConst(name: string, c: Const): void {
    this.consts.set(name, c);
  }

  setAlias(name: string, target: string): void {
    this.alias.set(name, this.resolve(target));
  }

  /** Adds a graph node, checked by its operator's shape rule. */
  emit(node: GraphNode, at: string): void {
    const ins = node.inputs.map((t) => this.data.get(t)!);
    const s = (opDef(node.op).infer as (n: GraphNode, s: readonly Shape[]) => Shape | string)(node, ins);
    if (typeof s === 'string') fail(`${at}: ${s}`);
    this.nodes.push(node);
    this.data.set(node.output, s);
  }
}
