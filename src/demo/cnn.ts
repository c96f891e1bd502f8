/**
 * Small deterministic (seeded) PyTorch-style CNNs written as ONNX bytes the way torch.onnx.export writes them: node
 * names like '/conv1/Conv', parameters like 'conv1.weight', a dynamic 'batch' dimension, float32 weights, flatten
 * as Shape -> Gather -> Unsqueeze -> Concat -> Reshape (x.view(x.size(0), -1)) or as Flatten, the opset's own
 * encoding of Squeeze / Unsqueeze axes, Clip bounds and Pad pads. For tests and benchmarks of the graph reader.
 */
import { gaussian, mulberry32 } from '../model/rng.ts';
import { floatTensor, int64Tensor } from '../formats/onnx-write.ts';
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, encodeModel, ONNX_FLOAT, type OAttr, type ONode, type OTensor, type OValueInfo } from '../formats/onnx-schema.ts';

const ATTR_STRING = 3;
const ATTR_TENSOR = 4;

export type CnnOpset = 11 | 13 | 17;

export interface CnnOptions {
  seed?: number;
  opset?: CnnOpset;
  /** how the flatten before the classifier is written (default 'shape-chain', as x.view(x.size(0), -1) exports) */
  flatten?: 'shape-chain' | 'flatten';
  /** mixedCnn's last operator (default 'softmax') */
  head?: 'softmax' | 'logsoftmax' | 'none';
  /** parameter name -> indices set to DEAD_BIAS after drawing (the others stay as drawn): channels made never active */
  dead?: Readonly<Record<string, readonly number[]>>;
  /** layer name (e.g. 'fc1') -> output channels whose weights are all set to 0 and bias to CONSTANT_BIAS: channels
   * constant on every domain (after the ReLU: CONSTANT_BIAS), which an exact prune folds into the next bias */
  constant?: Readonly<Record<string, readonly number[]>>;
}

/** The bias of a constant channel (see CnnOptions.constant). */
export const CONSTANT_BIAS = 0.75;

/** A bias far below anything the layer before can reach on inputs in [0, 1]: the channel's ReLU never fires. */
export const DEAD_BIAS = -1000;

/**
 * pytorchCnn's channels made dead for pruning demos and tests: conv1's channel 0 (its ReLU feeds the residual Add
 * through MaxPool, where the other branch is live: it must stay), layer1.0's inner channels 2 and 5 (removable:
 * their filters and the next convolution's input slices go) and fc1's neurons 3, 7 and 11.
 */
export const PRUNABLE_CNN_DEAD = { 'bn1.bias': [0], 'layer1.0.bn1.bias': [2, 5], 'fc1.bias': [3, 7, 11] } as const;

type AttrValue = number | number[] | string | { float: number };

function attribute(name: string, v: AttrValue): OAttr {
  if (typeof v === 'string') return { name, s: new TextEncoder().encode(v), type: ATTR_STRING };
  if (Array.isArray(v)) return { name, ints: v, type: ATTR_INTS };
  if (typeof v === 'object') return { name, f: v.float, type: ATTR_FLOAT };
  return { name, i: v, type: ATTR_INT };
}

function batchInfo(name: string, dims: number[]): OValueInfo {
  const dim = [{ dim_param: 'batch' }, ...dims.map((d) => ({ dim_value: d }))];
  return { name, type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim } } } };
}

/** Collects nodes and initializers with exporter-like names. */
class Builder {
  readonly nodes: ONode[] = [];
  readonly inits: OTensor[] = [];
  private readonly rng: () => number;
  constructor(seed: number, readonly opset: CnnOpset, private readonly dead: CnnOptions['dead'] = {}, private readonly constant: CnnOptions['constant'] = {}) {
    this.rng = mulberry32(seed);
  }
  node(op: string, name: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const output = `${name}_output_0`;
    this.nodes.push({ op_type: op, name, input: inputs, output: [output], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return output;
  }
  param(name: string, dims: number[], f: () => number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, f);
    for (const i of this.dead?.[name] ?? []) data[i] = DEAD_BIAS;
    const [layer, kind] = [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)];
    const row = n / dims[0];
    for (const i of this.constant?.[layer] ?? []) {
      if (kind === 'weight') data.fill(0, i * row, (i + 1) * row);
      if (kind === 'bias') data[i] = CONSTANT_BIAS;
    }
    this.inits.push(floatTensor(name, dims, data, 'float32'));
    return name;
  }
  ints(name: string, data: number[]): string {
    this.inits.push(int64Tensor(name, [data.length], data));
    return name;
  }
  /** a Constant node holding an int64 tensor */
  constInts(name: string, data: number[], scalar = false): string {
    const t = int64Tensor('', scalar ? [] : [data.length], data);
    const output = `${name}_output_0`;
    this.nodes.push({ op_type: 'Constant', name, input: [], output: [output], attribute: [{ name: 'value', t, type: ATTR_TENSOR }] });
    return output;
  }
  normal(scale: number): () => number {
    return () => scale * gaussian(this.rng);
  }
  uniform(lo: number, hi: number): () => number {
    return () => lo + (hi - lo) * this.rng();
  }
  conv(name: string, x: string, cin: number, cout: number, k: number, attrs: Record<string, AttrValue>, bias = true, group = 1): string {
    const w = this.param(`${name}.weight`, [cout, cin / group, k, k], this.normal(Math.sqrt(2 / ((cin / group) * k * k))));
    const ins = bias ? [x, w, this.param(`${name}.bias`, [cout], this.normal(0.1))] : [x, w];
    const pads: Record<string, AttrValue> = 'auto_pad' in attrs ? {} : { pads: [0, 0, 0, 0] };
    return this.node('Conv', `/${name}/Conv`, ins, { dilations: [1, 1], group, kernel_shape: [k, k], ...pads, strides: [1, 1], ...attrs });
  }
  bn(name: string, x: string, c: number): string {
    const ps = [
      this.param(`${name}.weight`, [c], this.uniform(0.5, 1.5)),
      this.param(`${name}.bias`, [c], this.normal(0.1)),
      this.param(`${name}.running_mean`, [c], this.normal(0.1)),
      this.param(`${name}.running_var`, [c], this.uniform(0.5, 1.5)),
    ];
    const extra: Record<string, AttrValue> = this.opset >= 15 ? { training_mode: 0 } : {};
    return this.node('BatchNormalization', `/${name}/BatchNormalization`, [x, ...ps], { epsilon: { float: 1e-5 }, momentum: { float: 0.9 }, ...extra });
  }
  gemm(name: string, x: string, nin: number, nout: number): string {
    const w = this.param(`${name}.weight`, [nout, nin], this.normal(Math.sqrt(1 / nin)));
    const b = this.param(`${name}.bias`, [nout], this.normal(0.1));
    return this.node('Gemm', `/${name}/Gemm`, [x, w, b], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 });
  }
  /** Unsqueeze / Squeeze with axes as the opset writes them: an attribute before 13, an input from 13 */
  axesOp(op: 'Squeeze' | 'Unsqueeze', name: string, x: string, axes: number[]): string {
    if (this.opset < 13) return this.node(op, name, [x], { axes });
    return this.node(op, name, [x, this.constInts(`${name}_axes`, axes)]);
  }
  flatten(x: string, how: CnnOptions['flatten']): string {
    if (how === 'flatten') return this.node('Flatten', '/Flatten', [x], { axis: 1 });
    const shape = this.node('Shape', '/Shape', [x]);
    const g = this.node('Gather', '/Gather', [shape, this.constInts('/Constant', [0], true)], { axis: 0 });
    const u = this.axesOp('Unsqueeze', '/Unsqueeze', g, [0]);
    const cat = this.node('Concat', '/Concat', [u, this.constInts('/Constant_1', [-1])], { axis: 0 });
    return this.node('Reshape', '/Reshape', [x, cat]);
  }
  model(inShape: number[], x: string, out: string, outShape: number[]): Uint8Array {
    const last = this.nodes.find((n) => n.output?.[0] === out)!;
    last.output = ['output'];
    this.nodes.forEach((n) => (n.input = n.input?.map((t) => (t === x ? 'input' : t === out ? 'output' : t))));
    return encodeModel({
      ir_version: 8,
      producer_name: 'pytorch',
      producer_version: '2.1.0',
      graph: { name: 'main_graph', node: this.nodes, initializer: this.inits, input: [batchInfo('input', inShape)], output: [batchInfo('output', outShape)] },
      opset_import: [{ domain: '', version: this.opset }],
    });
  }
}

/** The input shape (without the batch) of pytorchCnn. */
export const PYTORCH_CNN_INPUT = [3, 16, 16];

/**
 * Conv -> BatchNorm -> Relu -> MaxPool, a residual block (Conv-BN-Relu-Conv-BN, Add with the block's input, Relu),
 * AveragePool (3x3, stride 2, pad 1, padding counted), flatten, Gemm -> Relu -> Gemm: [batch,3,16,16] -> [batch,10].
 */
export function pytorchCnn(opts: CnnOptions = {}): Uint8Array {
  const b = new Builder(opts.seed ?? 1, opts.opset ?? 17, opts.dead, opts.constant);
  const x = 'x';
  let h = b.conv('conv1', x, 3, 8, 3, { pads: [1, 1, 1, 1] });
  h = b.node('Relu', '/relu/Relu', [b.bn('bn1', h, 8)]);
  const pooled = b.node('MaxPool', '/maxpool/MaxPool', [h], { ceil_mode: 0, kernel_shape: [2, 2], pads: [0, 0, 0, 0], strides: [2, 2] });
  h = b.conv('layer1.0.conv1', pooled, 8, 8, 3, { pads: [1, 1, 1, 1] }, false);
  h = b.node('Relu', '/layer1/layer1.0/relu/Relu', [b.bn('layer1.0.bn1', h, 8)]);
  h = b.bn('layer1.0.bn2', b.conv('layer1.0.conv2', h, 8, 8, 3, { pads: [1, 1, 1, 1] }, false), 8);
  h = b.node('Relu', '/layer1/layer1.0/relu_1/Relu', [b.node('Add', '/layer1/layer1.0/Add', [h, pooled])]);
  h = b.node('AveragePool', '/avgpool/AveragePool', [h], { ceil_mode: 0, count_include_pad: 1, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  h = b.flatten(h, opts.flatten ?? 'shape-chain');
  h = b.node('Relu', '/relu_2/Relu', [b.gemm('fc1', h, 8 * 4 * 4, 16)]);
  const out = b.gemm('fc2', h, 16, 10);
  return b.model(PYTORCH_CNN_INPUT, x, out, [10]);
}

/** The input shape (without the batch) of mixedCnn. */
export const MIXED_CNN_INPUT = [4, 12, 12];

/**
 * Everything else the reader takes: Pad (constant value), dilation, LeakyRelu, depthwise conv with auto_pad
 * SAME_UPPER, Clip (ReLU6), auto_pad VALID and SAME_LOWER, Sigmoid, Concat, a squeeze-excitation gate
 * (GlobalAveragePool, Squeeze / Unsqueeze, Mul / Div / Sub between tensors and by constants), MaxPool with ceil_mode,
 * PRelu, Transpose, Flatten, Gemm, Tanh, MatMul + Add, Softmax or LogSoftmax: [batch,4,12,12] -> [batch,10].
 */
export function mixedCnn(opts: CnnOptions = {}): Uint8Array {
  const b = new Builder(opts.seed ?? 2, opts.opset ?? 17);
  const x = 'x';
  const padVal = b.param('pad_value', [], () => 0.5);
  let h = b.node('Pad', '/pad/Pad', [x, b.ints('pad_pads', [0, 0, 1, 2, 0, 0, 2, 1]), padVal], { mode: 'constant' });
  h = b.conv('dil', h, 4, 8, 3, { dilations: [2, 2], pads: [2, 2, 2, 2] });
  h = b.node('LeakyRelu', '/act/LeakyRelu', [h], { alpha: { float: 0.1 } });
  h = b.conv('dw', h, 8, 8, 3, { auto_pad: 'SAME_UPPER', strides: [2, 2] }, true, 8);
  h = b.node('Clip', '/relu6/Clip', [h, b.param('clip_min', [], () => 0), b.param('clip_max', [], () => 6)]);
  const ba = b.conv('branch_a', h, 8, 4, 1, { auto_pad: 'VALID' });
  const bb = b.node('Sigmoid', '/branch_b/Sigmoid', [b.conv('branch_b', h, 8, 4, 2, { auto_pad: 'SAME_LOWER' })]);
  const cat = b.node('Concat', '/Concat_1', [ba, bb], { axis: 1 });
  const gap = b.axesOp('Squeeze', '/se/Squeeze', b.node('GlobalAveragePool', '/se/GlobalAveragePool', [cat]), [2, 3]);
  const gate = b.node('Sigmoid', '/se/Sigmoid', [b.axesOp('Unsqueeze', '/se/Unsqueeze', gap, [2, 3])]);
  const gated = b.node('Mul', '/se/Mul', [cat, gate]);
  const denom = b.node('Add', '/se/Add', [gate, b.param('one', [], () => 1)]);
  const half = b.node('Mul', '/se/Mul_1', [cat, b.param('half', [1, 8, 1, 1], b.uniform(0.2, 0.6))]);
  h = b.node('Sub', '/se/Sub', [b.node('Div', '/se/Div', [gated, denom]), half]);
  h = b.node('MaxPool', '/pool/MaxPool', [h], { ceil_mode: 1, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  h = b.node('PRelu', '/prelu/PRelu', [h, b.param('prelu.weight', [8, 1, 1], b.uniform(0, 0.3))]);
  h = b.node('Div', '/scale/Div', [b.node('Sub', '/shift/Sub', [h, b.param('shift', [], () => 0.1)]), b.param('div', [8, 1, 1], b.uniform(0.5, 2))]);
  h = b.node('Transpose', '/Transpose', [h], { perm: [0, 2, 3, 1] });
  h = b.flatten(h, opts.flatten ?? 'flatten');
  h = b.node('Tanh', '/Tanh', [b.gemm('fc1', h, 5 * 5 * 8, 12)]);
  const mm = b.node('MatMul', '/fc2/MatMul', [h, b.param('fc2.weight_t', [12, 10], b.normal(0.3))]);
  const logits = b.node('Add', '/fc2/Add', [mm, b.param('fc2.bias', [10], b.normal(0.1))]);
  const head = opts.head ?? 'softmax';
  const out = head === 'none' ? logits : b.node(head === 'softmax' ? 'Softmax' : 'LogSoftmax', `/${head}`, [logits], { axis: 1 });
  return b.model(MIXED_CNN_INPUT, x, out, [10]);
}
