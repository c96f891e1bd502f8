/**
 * MaxPool: intervals by the kernel on lo and on hi (max is monotone). Lines per window: below, the input with the
 * largest lower bound (the max is at least any input); above, the same input when its lower bound reaches every
 * other input's upper bound (then it is the max), else the constant max of the upper bounds.
 */
import type { BackView, BoundRule } from '../types.ts';
import { poolTaps } from '../../../model/graph/ops/pool-common.ts';
import { runForward } from '../util.ts';

/** Per output: the input index with the largest lower bound, and whether it is the max on the whole box. */
function winners(v: BackView<'maxpool'>): { arg: Int32Array; decided: Uint8Array } {
  const [C, H, W] = v.inShapes[0];
  const [, OH, OW] = v.outShape;
  const [rows, cols] = poolTaps(v.node.attrs, v.inShapes[0], v.outShape);
  const { lo, hi } = v.ins[0];
  const arg = new Int32Array(C * OH * OW);
  const decided = new Uint8Array(arg.length);
  let k = 0;
  for (let c = 0; c < C; c++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, k++) {
        let best = -1;
        let rival = -Infinity; // the largest upper bound among the others
        for (const r of rows[oh]) {
          for (const q of cols[ow]) {
            const j = c * H * W + r * W + q;
            if (best < 0 || lo[j] > lo[best]) best = j;
          }
        }
        for (const r of rows[oh]) for (const q of cols[ow]) if (c * H * W + r * W + q !== best) rival = Math.max(rival, hi[c * H * W + r * W + q]);
        arg[k] = best;
        decided[k] = lo[best] >= rival ? 1 : 0;
      }
    }
  }
  return { arg, decided };
}

export const maxpool: BoundRule<'maxpool'> = {
  interval(v) {
    const run = (x: Float64Array): Float64Array => runForward(v.node, [x], v.inShapes, v.outShape);
    return { lo: run(v.ins[0].lo), hi: run(v.ins[0].hi), mag: run(v.ins[0].mag) };
  },
  backward(v, A, S) {
    const { arg, decided } = winners(v);
    const n = arg.length;
    const m = v.ins[0].lo.length;
    const up = v.out.hi;
    const B = new Float64Array(S * m);
    const bias = new Float64Array(S);
    const mag = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let c = 0;
      let g = 0;
      for (let i = 0; i < n; i++) {
        const a = A[s * n + i];
        if (a === 0) continue;
        if (a > 0 || decided[i]) B[s * m + arg[i]] += a;
        else c += a * up[i];
        g += Math.abs(a) * v.out.mag[i];
      }
      bias[s] = c;
      mag[s] = g;
    }
    const relaxed = S === 1 ? ([x]: readonly (Float64Array | undefined)[]) => Float64Array.from(arg, (j, i) => (A[i] > 0 || decided[i] ? x![j] : up[i])) : undefined;
    return { ins: [B], bias, mag, relaxed };
  },
  refine: () => true,
};
