/**
 * The trained CNN's architecture and its parameters as ONE flat Float64Array (the optimiser and the proximal steps
 * run over it in one loop), with each tensor's place in it. Conv(1 -> c1, 3x3, pad 1) -> ReLU -> MaxPool 2 ->
 * Conv(c1 -> c2, 3x3, no pad) -> ReLU -> Flatten -> Dense(hidden) -> ReLU -> Dense(classes).
 */
import { gaussian, mulberry32 } from '../../model/rng.ts';
import { convOut, poolOut, type ConvShape, type Dims } from './layers.ts';

export interface CnnArch {
  /** the input image's side (one channel) */
  readonly size: number;
  readonly c1: number;
  readonly c2: number;
  readonly hidden: number;
  readonly classes: number;
}

/** 1x12x12 -> 8x12x12 -> 8x6x6 -> 16x4x4 -> 256 -> 32 -> 4: about 9,600 parameters. */
export const DEFAULT_ARCH: CnnArch = { size: 12, c1: 8, c2: 16, hidden: 32, classes: 4 };

/** A tensor's place in the flat parameter vector. */
export interface Slot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
}

/** One layer's weight and bias; the weight's rows (contiguous) are its output channels, the group lasso's groups. */
export interface LayerSlots {
  readonly name: 'conv1' | 'conv2' | 'fc1' | 'fc2';
  readonly weight: Slot;
  readonly bias: Slot;
}

export interface Layout {
  readonly arch: CnnArch;
  readonly in: Dims;
  readonly conv1: ConvShape;
  readonly conv2: ConvShape;
  /** conv1's output, the pooled map, conv2's output */
  readonly dims: { readonly c1: Dims; readonly pooled: Dims; readonly c2: Dims };
  readonly flat: number;
  readonly layers: readonly LayerSlots[];
  readonly total: number;
}

export function layoutOf(arch: CnnArch): Layout {
  const inDims: Dims = { c: 1, h: arch.size, w: arch.size };
  const conv1: ConvShape = { cin: 1, cout: arch.c1, k: 3, pad: 1 };
  const c1 = convOut(inDims, conv1);
  const pooled = poolOut(c1);
  const conv2: ConvShape = { cin: arch.c1, cout: arch.c2, k: 3, pad: 0 };
  const c2 = convOut(pooled, conv2);
  if (c2.h < 1) throw new Error(`internal: an image of side ${arch.size} is too small for this CNN`);
  const flat = c2.c * c2.h * c2.w;
  let offset = 0;
  const slot = (name: string, shape: number[]): Slot => {
    const length = shape.reduce((a, b) => a * b, 1);
    const s = { name, shape, offset, length };
    offset += length;
    return s;
  };
  const layer = (name: LayerSlots['name'], wShape: number[]): LayerSlots => ({ name, weight: slot(`${name}.weight`, wShape), bias: slot(`${name}.bias`, [wShape[0]]) });
  const layers = [
    layer('conv1', [arch.c1, 1, 3, 3]),
    layer('conv2', [arch.c2, arch.c1, 3, 3]),
    layer('fc1', [arch.hidden, flat]),
    layer('fc2', [arch.classes, arch.hidden]),
  ];
  return { arch, in: inDims, conv1, conv2, dims: { c1, pooled, c2 }, flat, layers, total: offset };
}

export const view = (params: Float64Array, s: Slot): Float64Array => params.subarray(s.offset, s.offset + s.length);

/** The initial biases: small and positive, so no unit starts exactly at 0 (where ReLU'(0) = 0 would freeze it). */
export const INIT_BIAS = 0.01;

/** He-normal weights (std sqrt(2 / fan-in)) drawn in slot order from the seed, biases INIT_BIAS. */
export function initParams(layout: Layout, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const p = new Float64Array(layout.total);
  for (const l of layout.layers) {
    const fanIn = l.weight.length / l.weight.shape[0];
    const std = Math.sqrt(2 / fanIn);
    const w = view(p, l.weight);
    for (let i = 0; i < w.length; i++) w[i] = std * gaussian(rng);
    view(p, l.bias).fill(INIT_BIAS);
  }
  return p;
}
