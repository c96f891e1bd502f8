/**
 * How each node's output channels relate to its inputs' channels (a channel: an index on axis 0 of the per-sample
 * shape; every element of a 1-D tensor). Three kinds:
 * - reducer (conv with group 1, dense on a 1-D sample): every output channel has its own filter / row, so any can
 *   be dropped; an input channel is dropped with its slice / columns, which leaves the output unchanged only when
 *   that channel is zero (the skipped terms are w * 0);
 * - map: output channel j reads fixed input channels, sources[j] (channel-wise ops, aligned binaries, concat,
 *   reshapes that move whole channel blocks); dropping j with every channel it reads, and dropping an input channel
 *   with every output channel reading it, leaves the other channels' values as they were;
 * - opaque: everything else (a channel may feed every output channel, or a slot is shared): nothing dropped.
 */
import type { Graph, GraphNode, Shape } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';

/** one input channel of a node: [input index, channel] */
export type Source = readonly [number, number];

export type NodeLinks =
  | { readonly kind: 'reducer' }
  | { readonly kind: 'opaque' }
  | {
      readonly kind: 'map';
      /** per output channel, the input channels it reads (empty: made by the node, e.g. a pad's added channel) */
      readonly sources: readonly (readonly Source[])[];
      /** per input, per channel, the output channels that read it */
      readonly targets: readonly (readonly (readonly number[])[])[];
    };

const REDUCER: NodeLinks = { kind: 'reducer' };
const OPAQUE: NodeLinks = { kind: 'opaque' };

/** The number of channels of a tensor of this shape (a rank-0 tensor never takes part: see linksOf). */
export const channelsOf = (s: Shape): number => (s.length ? s[0] : 1);

function mapLinks(ins: readonly Shape[], outChannels: number, sourcesOf: (j: number) => Source[]): NodeLinks {
  const sources = Array.from({ length: outChannels }, (_, j) => sourcesOf(j));
  const targets = ins.map((s) => Array.from({ length: channelsOf(s) }, () => [] as number[]));
  sources.forEach((src, j) => src.forEach(([k, i]) => targets[k][i].push(j)));
  return { kind: 'map', sources, targets };
}

/** Channel j of the output is channel j of every input (channel-wise ops; add/sub/mul/div without broadcast on axis 0). */
const aligned = (ins: readonly Shape[], out: Shape): NodeLinks => mapLinks(ins, out[0], (j) => ins.map((_, k) => [k, j] as Source));

/**
 * A reshape moves whole channels when one side's channel block (elements per channel, row-major) is a whole number
 * of the other side's: [C,H,W] -> [C,H*W] (same blocks), -> [C*H*W] (channel c: elements c*H*W ...), and back.
 */
function reshapeLinks(a: Shape, b: Shape): NodeLinks {
  const blockA = size(a) / a[0];
  const blockB = size(b) / b[0];
  if (blockA % blockB === 0) {
    const r = blockA / blockB;
    return mapLinks([a], b[0], (j) => [[0, Math.floor(j / r)]]);
  }
  if (blockB % blockA === 0) {
    const r = blockB / blockA;
    return mapLinks([a], b[0], (j) => Array.from({ length: r }, (_, q) => [0, j * r + q] as Source));
  }
  return OPAQUE;
}

function concatLinks(ins: readonly Shape[], out: Shape, axis: number): NodeLinks {
  if (axis !== 0) return aligned(ins, out);
  const start: number[] = [];
  ins.reduce((off, s) => (start.push(off), off + s[0]), 0);
  return mapLinks(ins, out[0], (j) => {
    let k = ins.length - 1;
    while (start[k] > j) k--;
    return [[k, j - start[k]]];
  });
}

const alignedBinary = (ins: readonly Shape[], out: Shape): boolean => ins.every((s) => s.length === out.length && s[0] === out[0]);

/** The links of one node of g. */
export function linksOf(g: Graph, n: GraphNode): NodeLinks {
  const ins = n.inputs.map((t) => g.shapes.get(t)!);
  const out = g.shapes.get(n.output)!;
  if (out.length === 0 || ins.some((s) => s.length === 0)) return OPAQUE;
  const identity = (): NodeLinks => mapLinks(ins, out[0], (j) => [[0, j]]);
  switch (n.op) {
    // a grouped conv's output channel reads a group of input channels: kept whole (not worth the bookkeeping)
    case 'conv': return n.attrs.group === 1 ? REDUCER : OPAQUE;
    // dense acts on the last axis: on a 1-D sample it mixes every channel, on more axes it is channel-wise
    case 'dense': return ins[0].length === 1 ? REDUCER : identity();
    case 'relu': case 'leakyrelu': case 'prelu': case 'tanh': case 'sigmoid': case 'clip': case 'batchnorm': case 'affine':
    case 'maxpool': case 'averagepool': case 'globalaveragepool':
      return identity();
    case 'softmax': case 'logsoftmax': return n.attrs.axis >= 1 ? identity() : OPAQUE;
    case 'transpose': return n.attrs.perm[0] === 0 ? identity() : OPAQUE;
    case 'pad': {
      const before = n.attrs.pads[0];
      return mapLinks(ins, out[0], (j) => (j >= before && j < before + ins[0][0] ? [[0, j - before]] : []));
    }
    case 'reshape': return reshapeLinks(ins[0], out);
    case 'concat': return concatLinks(ins, out, n.attrs.axis);
    case 'add': case 'sub': case 'mul': case 'div': return alignedBinary(ins, out) ? aligned(ins, out) : OPAQUE;
  }
}

/** Whether the shift of an affine node is 0 at every element of output channel j (it may broadcast on any axis). */
function affineShiftZero(shift: { shape: Shape; data: Float64Array }, j: number): boolean {
  const c = shift.shape[0] === 1 ? 0 : j;
  const block = size(shift.shape) / shift.shape[0];
  for (let e = c * block; e < (c + 1) * block; e++) if (shift.data[e] !== 0) return false;
  return true;
}

/**
 * How a map node's output channel j is zero from its inputs: 'all' (every channel it reads is zero; vacuous for a
 * pad's added channel of value 0), 'any' (mul: one zero factor; the other is finite) or never (false).
 */
export function zeroRule(n: GraphNode, j: number): 'all' | 'any' | false {
  switch (n.op) {
    case 'relu': case 'leakyrelu': case 'prelu': case 'tanh': case 'maxpool': case 'averagepool': case 'globalaveragepool':
    case 'add': case 'sub': case 'concat': case 'reshape': case 'transpose':
      return 'all';
    case 'clip': return n.attrs.min <= 0 && 0 <= n.attrs.max ? 'all' : false;
    case 'pad': return n.attrs.value === 0 ? 'all' : false;
    case 'mul': return 'any';
    // x * scale + shift with x = 0 is the shift (the scale is finite: buildGraph checks every constant)
    case 'batchnorm': return n.params.shift.data[j] === 0 ? 'all' : false;
    case 'affine': return affineShiftZero(n.params.shift, j) ? 'all' : false;
    default: return false;
  }
}
