/** 2-D convolution, NCHW, with strides, pads, dilations and groups (depthwise when group = channels). */
import type { OpDef } from '../op.ts';
import { fmt } from '../shape.ts';
import { outSize } from './pool-geometry.ts';

export const conv: OpDef<'conv'> = {
  arity: 1,
  infer(node, [x]) {
    const { weight, bias } = node.params;
    const { kernel, strides, pads, dilations, group } = node.attrs;
    const w = weight.shape;
    if (x.length !== 3) return `input of shape ${fmt(x)} is not [channels, height, width]`;
    if (w.length !== 4 || w[2] !== kernel[0] || w[3] !== kernel[1]) return `weight of shape ${fmt(w)} does not match kernel ${fmt(kernel)}`;
    if (!(group >= 1) || x[0] % group !== 0 || w[0] % group !== 0 || w[1] * group !== x[0]) {
      return `weight of shape ${fmt(w)} with ${group} group(s) does not fit ${x[0]} input channels`;
    }
    if (bias.shape.length !== 1 || bias.shape[0] !== w[0]) return `bias of shape ${fmt(bias.shape)} for ${w[0]} output channels`;
    const h = outSize(x[1], kernel[0], strides[0], pads[0], pads[2], dilations[0], false);
    const wd = outSize(x[2], kernel[1], strides[1], pads[1], pads[3], dilations[1], false);
    if (typeof h === 'string') return h;
    if (typeof wd === 'string') return wd;
    return [w[0], h, wd];
  },
  forward(node, [x], [xs], os, batch) {
    const [C, H, W] = xs;
    const [O, OH, OW] = os;
    const { weight, bias } = node.params;
    const { kernel: [KH, KW], strides: [SH, SW], pads: [PT, PL], dilations: [DH, DW], group } = node.attrs;
    const Cg = C / group;
    const Og = O / group;
    const wt = weight.data;
    const y = new Float64Array(batch * O * OH * OW);
    const { lo, hi } = kernelColumnRanges(KW, DW, PL, SW, W, OW);
    const plane = OH * OW;
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < O; o++) {
        const yo = (b * O + o) * plane;
        y.fill(bias.data[o], yo, yo + plane);
        const g = Math.floor(o / Og);
        for (let ic = 0; ic < Cg; ic++) {
          const xo = (b * C + g * Cg + ic) * H * W;
          const wo = (o * Cg + ic) * KH * KW;
          for (let ki = 0; ki < KH; ki++) {
            for (let kj = 0; kj < KW; kj++) {
              const w = wt[wo + ki * KW + kj];
              if (w === 0) continue;
              const l = lo[kj];
              const h = hi[kj];
              const off = kj * DW - PL;
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * SH - PT + ki * DH;
                if (ih < 0 || ih >= H) continue;
                const yr = yo + oh * OW;
                const xr = xo + ih * W + off;
                for (let ow = l; ow <= h; ow++) y[yr + ow] += w * x[xr + ow * SW];
              }
            }
          }
        }
      }
    }
    return y;
  },
};

/**
 * Per kernel column kj, the output columns [lo[kj], hi[kj]] whose tap lands inside the input (width W, left pad PL,
 * dilation DW, stride SW), so an inner loop over them needs no bounds test. Shared by the forward kernel and the
 * transposed convolution of the bound rule.
 */
export function kernelColumnRanges(KW: number, DW: number, PL: number, SW: number, W: number, OW: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(KW);
  const hi = new Int32Array(KW);
  for (let kj = 0; kj < KW; kj++) {
    const off = kj * DW - PL;
    lo[kj] = Math.max(0, Math.ceil(-off / SW));
    hi[kj] = Math.min(OW - 1, Math.floor((W - 1 - off) / SW));
  }
  return { lo, hi };
}
