/**
 * What a quantised file stores per layer, and the network its numbers mean (the one the proof is about; the file
 * read back must give exactly this, see check.ts). float16: weights and biases rounded to the nearest float16
 * (ties to even); int8: weights q = round(w / s) in [-127, 127] with a float32 scale s = max |w| / 127 per tensor
 * or per output row (symmetric, zero point 0), value fround(q * s) as DequantizeLinear computes it, biases
 * float32; a layer kept float32: weights and biases rounded to float32.
 */
import { fail } from '../../errors.ts';
import type { Layer, Network } from '../../model/network.ts';
import { half } from '../../formats/onnx-read.ts';
import type { StoredLayer } from '../../formats/onnx-quant-write.ts';

export type QuantTarget = 'float16' | 'int8';

export interface QuantSpec {
  to: QuantTarget;
  /** int8: one scale per output channel (row of the weight) instead of one per tensor */
  perChannel: boolean;
  /** layers (0-based) kept in float32 */
  keepFloat: readonly number[];
}


/** The float16 bit pattern nearest to x (ties to even); |x| beyond the largest float16 is an error. */
export function toHalfBits(x: number, where: string): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (!Number.isFinite(a)) fail(`${where}: ${x} has no float16 value`);
  // the spacing of float16 values near a: 2^-24 below 2^-14 (subnormals), else 2^(e - 10)
  const e = a === 0 ? -15 : Math.floor(Math.log2(a));
  const ulp = 2 ** (Math.max(e, -14) - 10);
  let m = roundHalfEven(a / ulp); // exact: a / ulp is a power-of-two scaling
  let ex = Math.max(e, -14);
  // log2 may be off by one near powers of two: renormalise so that m is in [1024, 2048) (or a subnormal)
  while (m >= 2048) {
    m = roundHalfEven(m / 2);
    ex++;
  }
  while (ex > -14 && m < 1024) {
    m *= 2;
    ex--;
  }
  if (ex > 15) fail(`${where}: ${x} is beyond the largest float16 (65504): keep this layer in float32 (--keep-float)`);
  if (m < 1024) return sign | m; // subnormal (ex = -14)
  return sign | ((ex + 15) << 10) | (m - 1024);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}


/** int8 with symmetric scales: one per tensor, or one per output row. */
function int8Layer(L: Layer, perChannel: boolean): StoredLayer {
  const rows = perChannel ? L.outSize : 1;
  const per = perChannel ? L.inSize : L.weights.length;
  const scales = new Float32Array(rows);
  const q = new Int8Array(L.weights.length);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let i = r * per; i < (r + 1) * per; i++) max = Math.max(max, Math.abs(L.weights[i]));
    // an all-zero row: any scale; 1 keeps the file readable
    const s = max > 0 ? Math.fround(max / 127) : 1;
    if (!(s > 0) || !Number.isFinite(s)) fail(`layer weights of magnitude ${max} have no float32 int8 scale`);
    scales[r] = s;
    for (let i = r * per; i < (r + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, Math.round(L.weights[i] / s)));
  }
  return { kind: 'int8', weights: q, scales, bias: Float32Array.from(L.bias) };
}

export function storeLayer(L: Layer, k: number, spec: QuantSpec): StoredLayer {
  if (spec.keepFloat.includes(k)) return { kind: 'float32', weights: Float32Array.from(L.weights), bias: Float32Array.from(L.bias) };
  if (spec.to === 'int8') return int8Layer(L, spec.perChannel);
  const where = `layer ${k + 1}`;
  return { kind: 'float16', weights: Uint16Array.from(L.weights, (w) => toHalfBits(w, `${where} weight`)), bias: Uint16Array.from(L.bias, (b) => toHalfBits(b, `${where} bias`)) };
}

export function storeNetwork(net: Network, spec: QuantSpec): StoredLayer[] {
  spec.keepFloat.forEach((k) => {
    if (!(Number.isInteger(k) && k >= 0 && k < net.layers.length)) fail(`--keep-float: layer ${k + 1} does not exist (the network has ${net.layers.length} layers)`);
  });
  return net.layers.map((L, k) => storeLayer(L, k, spec));
}

/** The values a stored layer means in float32 arithmetic (what the readers fold a Cast or DequantizeLinear to). */
export function storedValues(s: StoredLayer, inSize: number): { weights: Float64Array; bias: Float64Array } {
  if (s.kind === 'float32') return { weights: Float64Array.from(s.weights), bias: Float64Array.from(s.bias) };
  if (s.kind === 'float16') return { weights: Float64Array.from(s.weights, half), bias: Float64Array.from(s.bias, half) };
  const per = s.scales.length === 1 ? s.weights.length : inSize;
  const weights = Float64Array.from(s.weights, (q, i) => Math.fround(q * s.scales[Math.floor(i / per)]));
  return { weights, bias: Float64Array.from(s.bias) };
}

/** The network the stored numbers mean: f's shapes and activations, the stored values. */
export function storedNetwork(f: Network, stored: readonly StoredLayer[]): Network {
  return { inputSize: f.inputSize, layers: f.layers.map((L, k) => ({ ...L, ...storedValues(stored[k], L.inSize) })) };
}
