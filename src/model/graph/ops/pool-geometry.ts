/** Window geometry shared by convolution and pooling along one spatial axis. */

/**
 * The output length of a window of `k` taps (dilation `d`) sliding by `s` over `n` positions padded by `pb` / `pe`;
 * `ceil` rounds up, as PyTorch and onnxruntime do (a last window starting in the end padding is dropped).
 */
export function outSize(n: number, k: number, s: number, pb: number, pe: number, d: number, ceil: boolean): number | string {
  if (![k, s, d].every((v) => Number.isInteger(v) && v >= 1) || ![pb, pe].every((v) => Number.isInteger(v) && v >= 0)) {
    return `kernel ${k}, stride ${s}, dilation ${d} and pads ${pb},${pe} must be whole numbers (kernel, stride, dilation at least 1)`;
  }
  const span = n + pb + pe - d * (k - 1) - 1;
  if (span < 0) return `a window of ${k} taps (dilation ${d}) does not fit ${n} positions padded by ${pb},${pe}`;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + pb) out--;
  return out;
}

/** For each output position: the input positions its window reads inside the input (padding left out). */
export function taps(n: number, out: number, k: number, s: number, pb: number, d: number): Int32Array[] {
  const r: Int32Array[] = [];
  for (let o = 0; o < out; o++) {
    const v: number[] = [];
    for (let j = 0; j < k; j++) {
      const i = o * s - pb + j * d;
      if (i >= 0 && i < n) v.push(i);
    }
    r.push(Int32Array.from(v));
  }
  return r;
}
