/**
 * A graph that is a fully-connected ReLU chain (dense, relu, 0/1 prelu, constant affine ops, batchnorm, reshapes of
 * flat vectors, one path from input to output) as the Network the chain verifier takes. Layers close at each
 * activation, a second dense with no activation between closes a linear layer first, and constant ops fold into
 * the layer they are in, in the same order of operations as formats/onnx-read.ts, so both give the same numbers.
 */
import { makeLayer, validateNetwork, type Layer, type Network } from '../network.ts';
import type { Graph, GraphNode } from './types.ts';
import { expand, size } from './shape.ts';

const CHAIN_OPS = new Set(['dense', 'relu', 'prelu', 'affine', 'batchnorm', 'reshape']);

function isMask(n: GraphNode): boolean {
  return n.op !== 'prelu' || n.params.slope.data.every((v) => v === 0 || v === 1);
}

/** Whether a graph is a chain of dense layers (then graphToChain gives the fast Network form). */
export function isChain(g: Graph): boolean {
  let cur = g.input.name;
  for (const n of g.nodes) {
    if (!CHAIN_OPS.has(n.op) || n.inputs.length !== 1 || n.inputs[0] !== cur || !isMask(n)) return false;
    const s = g.shapes.get(cur)!;
    if (n.op === 'dense' && size(s) !== s[s.length - 1]) return false; // dense on a matrix acts per row
    cur = n.output;
  }
  return cur === g.output.name;
}

/** The value of the current layer: M x + c with M (rows x cols), or diag(d) x + c while no dense is applied yet. */
interface Acc {
  M: Float64Array | null;
  d: Float64Array;
  c: Float64Array;
  cols: number;
}

const fresh = (n: number): Acc => ({ M: null, d: new Float64Array(n).fill(1), c: new Float64Array(n), cols: n });

function closeLayer(a: Acc, relu: Uint8Array): Layer {
  const rows = a.c.length;
  let M = a.M;
  if (!M) {
    M = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) M[i * rows + i] = a.d[i];
  }
  return makeLayer(a.cols, rows, M, a.c, relu);
}

function applyDense(a: Acc, W: Float64Array, b: Float64Array, out: number): void {
  const n = a.c.length;
  const M = new Float64Array(out * a.cols);
  const c = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let cc = 0;
    for (let i = 0; i < n; i++) {
      const t = W[o * n + i];
      if (t === 0) continue;
      cc += t * a.c[i];
      if (!a.M) M[o * a.cols + i] = t * a.d[i];
      else for (let j = 0; j < a.cols; j++) M[o * a.cols + j] += t * a.M[i * a.cols + j];
    }
    c[o] = cc + b[o];
  }
  a.M = M;
  a.c = c;
}

/** y = s x + t elementwise on the current value. */
function applyAffine(a: Acc, s: Float64Array, t: Float64Array): void {
  for (let r = 0; r < a.c.length; r++) {
    a.c[r] = a.c[r] * s[r] + t[r];
    if (!a.M) a.d[r] *= s[r];
    else for (let j = 0; j < a.cols; j++) a.M[r * a.cols + j] *= s[r];
  }
}

function affineOf(n: GraphNode, g: Graph): [Float64Array, Float64Array] | undefined {
  const xs = g.shapes.get(n.inputs[0])!;
  if (n.op === 'affine') return [expand(n.params.scale.data, n.params.scale.shape, xs), expand(n.params.shift.data, n.params.shift.shape, xs)];
  if (n.op !== 'batchnorm') return undefined;
  const inner = size(xs) / xs[0];
  const s = new Float64Array(size(xs));
  const t = new Float64Array(size(xs));
  for (let e = 0; e < s.length; e++) {
    s[e] = n.params.scale.data[Math.floor(e / inner)];
    t[e] = n.params.shift.data[Math.floor(e / inner)];
  }
  return [s, t];
}

/** The Network of a chain graph. */
export function graphToChain(g: Graph): Network {
  if (!isChain(g)) throw new Error('internal: graphToChain on a graph that is not a fully-connected chain');
  const layers: Layer[] = [];
  let a = fresh(size(g.input.shape));
  let dense = false;
  let pendingAct = false;
  const close = (relu: Uint8Array): void => {
    layers.push(closeLayer(a, relu));
    a = fresh(a.c.length);
    dense = false;
  };
  for (const n of g.nodes) {
    pendingAct = n.op === 'relu' || n.op === 'prelu';
    const st = affineOf(n, g);
    if (st) applyAffine(a, st[0], st[1]);
    else if (n.op === 'relu') close(new Uint8Array(a.c.length).fill(1));
    else if (n.op === 'prelu') close(Uint8Array.from(expand(n.params.slope.data, n.params.slope.shape, g.shapes.get(n.inputs[0])!), (v) => (v === 0 ? 1 : 0)));
    else if (n.op === 'dense') {
      if (dense) close(new Uint8Array(a.c.length));
      applyDense(a, n.params.weight.data, n.params.bias.data, n.params.weight.shape[0]);
      dense = true;
    }
  }
  if (!pendingAct) close(new Uint8Array(a.c.length));
  const net: Network = { inputSize: size(g.input.shape), layers };
  validateNetwork(net, 'graph');
  return net;
}
