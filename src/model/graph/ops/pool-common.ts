/** Shape rule and tap tables shared by MaxPool and AveragePool (2-D, NCHW). */
import type { AvgPoolAttrs, MaxPoolAttrs, Pool2d, Shape } from '../types.ts';
import { fmt } from '../shape.ts';
import { outSize, taps } from './pool-geometry.ts';

type Attrs = Pool2d & Partial<Pick<MaxPoolAttrs, 'dilations' | 'ceil'>>;

export function poolShape(a: Attrs, x: Shape): Shape | string {
  if (x.length !== 3) return `input of shape ${fmt(x)} is not [channels, height, width]`;
  const d = a.dilations ?? [1, 1];
  const out: number[] = [x[0]];
  for (const ax of [0, 1]) {
    const o = outSize(x[ax + 1], a.kernel[ax], a.strides[ax], a.pads[ax], a.pads[ax + 2], d[ax], a.ceil ?? false);
    if (typeof o === 'string') return o;
    const t = taps(x[ax + 1], o, a.kernel[ax], a.strides[ax], a.pads[ax], d[ax]);
    if (t.some((v) => v.length === 0)) return `a window lies wholly in the padding (pads ${fmt(a.pads)}, kernel ${fmt(a.kernel)})`;
    out.push(o);
  }
  return out;
}

/** Per output row and per output column: the input rows / columns the window reads. */
export function poolTaps(a: Attrs, xs: Shape, os: Shape): [Int32Array[], Int32Array[]] {
  const d = a.dilations ?? [1, 1];
  return [
    taps(xs[1], os[1], a.kernel[0], a.strides[0], a.pads[0], d[0]),
    taps(xs[2], os[2], a.kernel[1], a.strides[1], a.pads[1], d[1]),
  ];
}

/** What an average-pooling window's sum is divided by: the whole kernel (countIncludePad) or the taps inside the
 * input. One definition for the forward kernel and the bound rule's transposed pooling, which must divide alike. */
export function poolDivisor(a: AvgPoolAttrs, rowTaps: number, colTaps: number): number {
  return a.countIncludePad ? a.kernel[0] * a.kernel[1] : rowTaps * colTaps;
}
