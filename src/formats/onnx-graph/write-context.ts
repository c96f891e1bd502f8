/**
 * The graph writer's state: the ONNX nodes and initializers emitted so far, fresh names that collide with no tensor
 * of the graph, and typed attribute makers. Every choice here is one the graph reader reads back as written.
 */
import type { Graph, GraphNode, Shape } from '../../model/graph/types.ts';
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, type OAttr, type ONode, type OTensor } from '../onnx-schema.ts';
import { floatTensor, int64Tensor, type Precision } from '../onnx-write.ts';

export class OnnxEmitter {
  readonly nodes: ONode[] = [];
  readonly inits: OTensor[] = [];
  private readonly used = new Set<string>();

  constructor(
    readonly graph: Graph,
    readonly precision: Precision,
    readonly opset: number,
  ) {
    this.used.add(graph.input.name);
    for (const n of graph.nodes) this.used.add(n.output);
  }

  /** A tensor or initializer name no other tensor has: `base`, else base_1, base_2, ... */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** The per-sample shape of a data tensor of the graph. */
  shapeOf(tensor: string): Shape {
    return this.graph.shapes.get(tensor) ?? internal(`no shape for tensor '${tensor}'`);
  }

  node(op: string, name: string, inputs: string[], output: string, attribute: OAttr[] = []): void {
    this.nodes.push({ op_type: op, name, input: inputs, output: [output], ...(attribute.length ? { attribute } : {}) });
  }

  /** A float initializer in the precision written. */
  floats(base: string, dims: readonly number[], data: ArrayLike<number>): string {
    const name = this.fresh(base);
    this.inits.push(floatTensor(name, [...dims], data, this.precision));
    return name;
  }

  int64s(base: string, data: number[]): string {
    const name = this.fresh(base);
    this.inits.push(int64Tensor(name, [data.length], data));
    return name;
  }

  /**
   * A float attribute (always float32 in ONNX). In a float64 model a value that float32 cannot hold exactly would
   * change the network, so it is refused; in a float32 model it rounds as every parameter does.
   */
  floatAttr(name: string, v: number, at: GraphNode): OAttr {
    if (this.precision === 'float64' && Math.fround(v) !== v) internal(`node '${at.name}' (${at.op}): ${name} ${v} has no float32 attribute value; a float64 model would not hold it exactly`);
    return { name, f: v, type: ATTR_FLOAT };
  }
}

export const intAttr = (name: string, v: number): OAttr => ({ name, i: v, type: ATTR_INT });
export const intsAttr = (name: string, v: readonly number[]): OAttr => ({ name, ints: [...v], type: ATTR_INTS });

export function internal(msg: string): never {
  throw new Error(`internal: graph writer: ${msg}`);
}

/** Every value of the tensor data is v (+0 and -0 both count as 0). */
export const allEqual = (data: Float64Array, v: number): boolean => data.every((x) => x === v);

/** A tensor of all-1 shape holding the one value v: what the reader makes for a missing scale (1) or shift (0). */
export const isTrivial = (t: { shape: Shape; data: Float64Array }, v: number): boolean =>
  t.shape.every((d) => d === 1) && t.data.length === 1 && t.data[0] === v;
