/**
 * A whole slice family as ONE standard ONNX model: nested If nodes on the split coordinates (x[dim] <= at takes the
 * then-branch, the same convention as the dispatcher), each leaf branch a slice network. onnxruntime runs it.
 */
import type { Network } from '../model/network.ts';
import { ATTR_GRAPH, ATTR_INT, ONNX_DOUBLE, ONNX_FLOAT, type OGraph, type ONode, type OTensor } from '../formats/onnx-schema.ts';
import { encodeGraph, floatTensor, int64Tensor, networkNodes, valueInfo, type Precision } from '../formats/onnx-write.ts';
import type { Partition, SplitTree } from './partition.ts';

export function familyOnnxBytes(p: Partition, nets: Network[], precision: Precision): Uint8Array {
  const elem = precision === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE;
  const n = p.root.lo.length;
  const m = nets[0].layers[nets[0].layers.length - 1].outSize;
  let counter = 0;
  // returns nodes + initializers computing tensor `out` from the outer-scope tensor 'input'
  const build = (t: SplitTree, out: string): { nodes: ONode[]; inits: OTensor[] } => {
    const id = counter++;
    if ('leaf' in t) {
      const r = networkNodes(nets[t.leaf], 'input', out, `s${t.leaf}_`, precision);
      return { nodes: r.nodes, inits: r.initializers };
    }
    const branch = (sub: SplitTree, name: string): OGraph => {
      const o = `${name}_out`;
      const b = build(sub, o);
      return { name, node: b.nodes, initializer: b.inits, input: [], output: [valueInfo(o, elem, [1, m])] };
    };
    const idx = `n${id}_dim`;
    const thr = `n${id}_at`;
    const nodes: ONode[] = [
      { op_type: 'Gather', name: `n${id}_gather`, input: ['input', idx], output: [`n${id}_v`], attribute: [{ name: 'axis', i: 1, type: ATTR_INT }] },
      { op_type: 'LessOrEqual', name: `n${id}_le`, input: [`n${id}_v`, thr], output: [`n${id}_c`] },
      {
        op_type: 'If',
        name: `n${id}_if`,
        input: [`n${id}_c`],
        output: [out],
        attribute: [
          { name: 'then_branch', g: branch(t.left, `n${id}_L`), type: ATTR_GRAPH },
          { name: 'else_branch', g: branch(t.right, `n${id}_R`), type: ATTR_GRAPH },
        ],
      },
    ];
    return { nodes, inits: [int64Tensor(idx, [1], [t.dim]), floatTensor(thr, [1], [t.at], precision)] };
  };
  const body = build(p.tree, 'output');
  const graph: OGraph = {
    name: 'nnshrink-family',
    node: body.nodes,
    initializer: body.inits,
    input: [valueInfo('input', elem, [1, n])],
    output: [valueInfo('output', elem, [1, m])],
  };
  return encodeGraph(graph, { 'nnshrink.family': JSON.stringify({ slices: nets.length, root: { lo: Array.from(p.root.lo), hi: Array.from(p.root.hi) } }) });
}
