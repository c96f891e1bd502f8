/**
 * A small valid ONNX model (Transpose?, MatMul, Relu, MatMul), with one defect at a time for the readers' tests:
 * its outputs, opset, a second data input, a Transpose perm, external tensor data, the input shape, an operator.
 */
import { floatTensor, valueInfo } from '../../src/formats/onnx-write.ts';
import { ATTR_INTS, encodeModel, ONNX_FLOAT, type ONode, type OTensor } from '../../src/formats/onnx-schema.ts';

export interface OnnxDefects {
  /** graph output names (default ['y']) */
  outputs?: string[];
  /** the default domain's opset (default 13); null: no opset_import at all */
  opset?: number | null;
  /** a second graph input that is not an initializer */
  secondInput?: string;
  /** put a Transpose with this perm before the first MatMul, then transpose back */
  perm?: number[];
  /** weight W marked as stored in an external file */
  external?: boolean;
  /** the declared input shape (default [1, 3]) */
  inShape?: number[];
  /** the op_type of the node named 'relu' (default Relu) */
  reluOp?: string;
  /** the operator domain of the node named 'relu' (default: the standard one) */
  reluDomain?: string;
}

export function badOnnx(d: OnnxDefects): Uint8Array {
  const nodes: ONode[] = [];
  let cur = 'x';
  if (d.perm) {
    nodes.push({ op_type: 'Transpose', name: 'tr', input: [cur], output: ['xt'], attribute: [{ name: 'perm', ints: d.perm, type: ATTR_INTS }] });
    nodes.push({ op_type: 'Transpose', name: 'tr_back', input: ['xt'], output: ['xb'], attribute: [{ name: 'perm', ints: [1, 0], type: ATTR_INTS }] });
    cur = 'xb';
  }
  nodes.push(
    { op_type: 'MatMul', name: 'mm1', input: [cur, 'W'], output: ['h'] },
    { op_type: d.reluOp ?? 'Relu', name: 'relu', input: ['h'], output: ['a'], ...(d.reluDomain ? { domain: d.reluDomain } : {}) },
    { op_type: 'MatMul', name: 'mm2', input: ['a', 'V'], output: ['y'] },
  );
  const W: OTensor = floatTensor('W', [3, 4], [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1, 1.1, 1.2], 'float32');
  if (d.external) {
    W.data_location = 1;
    W.external_data = [{ key: 'location', value: 'weights.bin' }];
    delete W.raw_data;
    delete W.float_data;
  }
  const V = floatTensor('V', [4, 2], [1, -1, 0.5, 0.25, -0.5, 2, 0, 1], 'float32');
  const input = [valueInfo('x', ONNX_FLOAT, d.inShape ?? [1, 3])];
  if (d.secondInput) input.push(valueInfo(d.secondInput, ONNX_FLOAT, [1, 3]));
  return encodeModel({
    ir_version: 8,
    graph: { name: 'g', node: nodes, initializer: [W, V], input, output: (d.outputs ?? ['y']).map((o) => valueInfo(o, ONNX_FLOAT, [1, 2])) },
    ...(d.opset === null ? {} : { opset_import: [{ domain: '', version: d.opset ?? 13 }] }),
  });
}
