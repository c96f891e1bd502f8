/**
 * Quantised activations (issue 30): what a hidden layer's output is stored as between two layers, the scales
 * calibrated on domain samples, and the bound on the error one stored activation adds, which the proof carries as a
 * bounded perturbation of the next layer's input (rounding.ts, rounding-act.ts).
 *
 * int8: after a ReLU the value is >= 0, so the file uses uint8 with zero point 0 (onnxruntime's QuantizeLinear
 * saturates to [0, 255]): all 256 levels cover [0, 255 s], where int8 with zero point 0 would spend half of them on
 * negative values that never occur, and a non-zero point would add a subtraction to the arithmetic. One scale per
 * layer (per tensor): what QDQ kernels take for activations. float16: Cast to float16 and back.
 */
import type { ActStore } from '../../formats/onnx-quant-write.ts';
import type { Box } from '../../model/box.ts';
import { samplePoints } from '../../model/box.ts';
import { forwardTrace, type Network } from '../../model/network.ts';
import { mulberry32 } from '../../model/rng.ts';
import { fail } from '../../errors.ts';

/** The output of one layer as the file stores it (the file format's own type, formats/onnx-quant-write.ts). */
export type { ActStore };
/** Per layer k (0-based), how its output goes to layer k + 1; the last layer's is always float32. */
export type ActScheme = ActStore[];
export type ActTarget = 'float32' | 'int8' | 'float16';

const U32 = 2 ** -24;
/** float16: unit roundoff 2^-11; the subnormals' half spacing 2^-25; 65504 the largest finite value */
const U16 = 2 ** -11;
const HALF_SUB = 2 ** -25;
const HALF_MAX = 65504;
export const CALIBRATION_SAMPLES = 10_000;

export const floatScheme = (net: Network): ActScheme => net.layers.map(() => ({ kind: 'float32' }));
export const quantizesActivations = (act: ActScheme | undefined): act is ActScheme => !!act && act.some((a) => a.kind !== 'float32');

/**
 * A bound on |stored(x) - x| for a float32 activation x with |x| <= mag (uint8: 0 <= x <= mag, after a ReLU).
 * uint8, with q = clamp(round(fl(x / s)), 0, 255) (any rounding to a nearest integer, the division in float32 or as
 * a product with a float32 reciprocal: relative error <= 2u + u^2) and the value fl(q s):
 *   |q s - x| <= max(s / 2, x - 255 s) + (2u + u^2) x,   |fl(q s) - q s| <= u q s,
 * so <= max(s / 2, mag - 255 s) (1 + 2u) + 4u mag: the rounding where mag is within the range, the clipping where
 * the proved bound mag exceeds it. float16: Cast rounds to nearest, <= 2^-11 |x| + 2^-25 (subnormals) below 65504;
 * beyond it Cast may give infinity, which nothing bounds.
 */
export function actError(st: ActStore, mag: number): number {
  if (!(mag > 0) || st.kind === 'float32') return 0;
  if (st.kind === 'float16') return mag < HALF_MAX ? (U16 * mag + HALF_SUB) * (1 + 1e-9) : Infinity;
  const s = st.scale;
  return (Math.max(s / 2, mag - 255 * s) * (1 + 2 * U32) + 4 * U32 * mag) * (1 + 1e-9) + 1e-300;
}

/**
 * A bound on |stored(x~) - x| for the exact activation x in [0, mag] (uint8) and the computed x~ within err of it:
 * clipping is a contraction, so stored(x~) = round(clip(x~)) is within the rounding of clip(x~), which is within err
 * of clip(x), which is within max(0, x - 255 s) of x. Unlike err + actError(st, mag + err), the error carried in does
 * not also count as clipping (the two would compound layer after layer).
 */
export function actTotal(st: ActStore, mag: number, err: number): number {
  const additive = err + actError(st, mag + err);
  if (st.kind !== 'uint8') return additive;
  const s = st.scale;
  const contracted = err + ((s / 2) * (1 + 2 * U32) + 4 * U32 * (mag + err) + Math.max(0, mag - 255 * s)) * (1 + 1e-9) + 1e-300;
  return Math.min(additive, contracted);
}

/**
 * The stored value's own error for rounding-back.ts (the deviation carried in goes through the neuron's factor):
 * uint8 the rounding of clip(x~) and clip(x) - x, <= max(0, mag - 255 s); float16 its rounding of x~.
 */
export function actOwn(st: ActStore, mag: number, err: number): number {
  if (st.kind !== 'uint8') return actError(st, mag + err);
  const s = st.scale;
  return ((s / 2) * (1 + 2 * U32) + 4 * U32 * (mag + err) + Math.max(0, mag - 255 * s)) * (1 + 1e-9) + 1e-300;
}

/** The uint8 scale that maps [0, max] onto [0, 255]: fl(max / 255), raised to the next float32 if it falls short. */
function uint8Scale(max: number): number {
  if (!(max > 0)) return 1 / 255; // never active on the samples: any scale; the proof uses proved bounds
  let s = Math.fround(max / 255);
  if (255 * s < max) s = Math.fround(s * (1 + 2 ** -23));
  if (!(s > 0) || !Number.isFinite(s)) fail(`activations of magnitude ${max} have no float32 uint8 scale`);
  return s;
}

/** Points of the domain for calibration: the count split over its boxes (each box at least one), seeded. */
function domainSamples(domain: Box[], count: number): { xs: Float64Array; n: number } {
  const per = Math.max(1, Math.floor(count / domain.length));
  const rng = mulberry32(2024);
  const parts = domain.map((b) => samplePoints(b, per, rng));
  const xs = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    xs.set(p, at);
    at += p.length;
  }
  return { xs, n: per * domain.length };
}

/**
 * The scheme of `target` for g (the network the stored weights mean): every hidden layer's output quantised except
 * after the layers in `keepFloat` (kept float32 whole) and the output layer. int8 needs a ReLU on every neuron of the
 * layer (a negative value would be clipped); its scale is calibrated by the largest activation on domain samples
 * (MinMax, as onnxruntime's quantisation tool does by default).
 */
export function calibrateScheme(g: Network, domain: Box[], target: ActTarget, keepFloat: readonly number[], samples = CALIBRATION_SAMPLES): ActScheme {
  const last = g.layers.length - 1;
  if (target === 'float32') return floatScheme(g);
  const { xs, n } = domainSamples(domain, samples);
  const trace = target === 'int8' ? forwardTrace(g, xs, n) : null;
  return g.layers.map((L, k): ActStore => {
    if (k === last || keepFloat.includes(k)) return { kind: 'float32' };
    if (target === 'float16') return { kind: 'float16' };
    if (!L.relu.every((r) => r === 1)) fail(`--activations int8: layer ${k + 1} has neurons without a ReLU (a uint8 activation would clip their negative values); keep it float32 (--keep-float ${k + 1})`);
    let max = 0;
    for (const v of trace!.post[k]) if (v > max) max = v;
    return { kind: 'uint8', scale: uint8Scale(max) };
  });
}

/**
 * The extra error of layer k + 1 when its input is stored uint8 and onnxruntime may run it as QGemm: the integer
 * sum is exact, the bias is rounded to a multiple of the step (half a step), the sum's conversion and rescaling to
 * float32 add a relative 4u + u^2 (within gamma_6, which the caller takes at least); Infinity where the int32 sum
 * or bias could overflow (|q - zero| <= 255 per factor).
 */
export function fusedBiasError(prev: ActStore | undefined, inSize: number, bias: number): number {
  if (prev?.kind !== 'uint8' || prev.biasStep === undefined) return 0;
  const t = prev.biasStep;
  if (!(t > 0) || 65025 * inSize + Math.abs(bias) / t >= 2 ** 31) return Infinity;
  return (t / 2) * (1 + 8 * U32);
}

/** The scheme as the certificate records it: layers from 1, each quantised one with its scale. */
export function schemeRecord(act: ActScheme): Array<{ layer: number; as: 'uint8' | 'float16'; scale?: number }> {
  return act.flatMap((a, k) => (a.kind === 'float32' ? [] : [{ layer: k + 1, as: a.kind, ...(a.kind === 'uint8' ? { scale: a.scale } : {}) }]));
}

/** The scheme with the layers in `keep` (0-based) kept float32 (blame.ts: a layer kept float32 whole). */
export const keepingFloat = (act: ActScheme, keep: readonly number[]): ActScheme => act.map((a, k) => (keep.includes(k) ? { kind: 'float32' } : a));

/** What the claim adds for stored activations: the evaluation it is about includes their rounding. */
export function actClaim(act: ActScheme | undefined): string {
  if (!quantizesActivations(act)) return '';
  const where = (kind: ActStore['kind']): number[] => act.flatMap((a, k) => (a.kind === kind ? [k + 1] : []));
  const parts = [['uint8', 'uint8 (QuantizeLinear / DequantizeLinear, the file\'s scales)'], ['float16', 'float16 (Cast and back)']] as const;
  const said = parts.filter(([k]) => where(k).length).map(([k, text]) => `after layer${where(k).length > 1 ? 's' : ''} ${where(k).join(',')} as ${text}`);
  return `, with the hidden outputs stored ${said.join(' and ')}`;
}
