/**
 * The trainer's kernels on batches laid out [batch, channels, height, width] (row-major Float64Array): 2-D
 * convolution (stride 1, square kernel, zero padding), 2x2 max pooling, dense layers, ReLU, each with its backward
 * pass. Gradients of parameters are ADDED into the given arrays (a batch's terms summed), so one zeroing per step
 * serves every layer.
 */

/** A feature map's size per sample. */
export interface Dims {
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

export interface ConvShape {
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly pad: number;
}

export const convOut = (d: Dims, s: ConvShape): Dims => ({ c: s.cout, h: d.h + 2 * s.pad - s.k + 1, w: d.w + 2 * s.pad - s.k + 1 });

/** 2x2 max pooling's output (an odd last row or column dropped). */
export const poolOut = (d: Dims): Dims => ({ c: d.c, h: d.h >> 1, w: d.w >> 1 });

/** y[b,o,i,j] = bias[o] + sum over c, u, v of weight[o,c,u,v] * x[b,c,i+u-pad,j+v-pad] (outside: 0). */
export function convForward(x: Float64Array, d: Dims, s: ConvShape, weight: Float64Array, bias: Float64Array, batch: number): Float64Array {
  const o = convOut(d, s);
  const y = new Float64Array(batch * o.c * o.h * o.w);
  const inPlane = d.h * d.w;
  const outPlane = o.h * o.w;
  for (let b = 0; b < batch; b++) {
    for (let oc = 0; oc < o.c; oc++) {
      const yBase = (b * o.c + oc) * outPlane;
      y.fill(bias[oc], yBase, yBase + outPlane);
      for (let c = 0; c < d.c; c++) {
        const xBase = (b * d.c + c) * inPlane;
        const wBase = (oc * d.c + c) * s.k * s.k;
        for (let u = 0; u < s.k; u++) {
          for (let v = 0; v < s.k; v++) {
            const wv = weight[wBase + u * s.k + v];
            if (wv === 0) continue;
            addShifted(y, yBase, o, x, xBase, d, u - s.pad, v - s.pad, wv);
          }
        }
      }
    }
  }
  return y;
}

/** y[yBase + i*o.w + j] += wv * x[xBase + (i+du)*d.w + (j+dv)] where the input position is inside. */
function addShifted(y: Float64Array, yBase: number, o: Dims, x: Float64Array, xBase: number, d: Dims, du: number, dv: number, wv: number): void {
  const i0 = Math.max(0, -du);
  const i1 = Math.min(o.h, d.h - du);
  const j0 = Math.max(0, -dv);
  const j1 = Math.min(o.w, d.w - dv);
  for (let i = i0; i < i1; i++) {
    const yr = yBase + i * o.w;
    const xr = xBase + (i + du) * d.w + dv;
    for (let j = j0; j < j1; j++) y[yr + j] += wv * x[xr + j];
  }
}

/** Backward of convForward: adds dL/dweight, dL/dbias; returns dL/dx (null when not wanted: the first layer). */
export function convBackward(x: Float64Array, d: Dims, s: ConvShape, weight: Float64Array, dy: Float64Array, gWeight: Float64Array, gBias: Float64Array, batch: number, wantDx: boolean): Float64Array | null {
  const o = convOut(d, s);
  const dx = wantDx ? new Float64Array(x.length) : null;
  const inPlane = d.h * d.w;
  const outPlane = o.h * o.w;
  for (let b = 0; b < batch; b++) {
    for (let oc = 0; oc < o.c; oc++) {
      const yBase = (b * o.c + oc) * outPlane;
      let sum = 0;
      for (let p = 0; p < outPlane; p++) sum += dy[yBase + p];
      gBias[oc] += sum;
      for (let c = 0; c < d.c; c++) {
        const xBase = (b * d.c + c) * inPlane;
        const wBase = (oc * d.c + c) * s.k * s.k;
        for (let u = 0; u < s.k; u++) {
          for (let v = 0; v < s.k; v++) {
            gWeight[wBase + u * s.k + v] += dotShifted(dy, yBase, o, x, xBase, d, u - s.pad, v - s.pad);
            const wv = weight[wBase + u * s.k + v];
            if (dx && wv !== 0) scatterShifted(dx, xBase, d, dy, yBase, o, u - s.pad, v - s.pad, wv);
          }
        }
      }
    }
  }
  return dx;
}

function dotShifted(dy: Float64Array, yBase: number, o: Dims, x: Float64Array, xBase: number, d: Dims, du: number, dv: number): number {
  let acc = 0;
  const i1 = Math.min(o.h, d.h - du);
  const j1 = Math.min(o.w, d.w - dv);
  for (let i = Math.max(0, -du); i < i1; i++) {
    const yr = yBase + i * o.w;
    const xr = xBase + (i + du) * d.w + dv;
    for (let j = Math.max(0, -dv); j < j1; j++) acc += dy[yr + j] * x[xr + j];
  }
  return acc;
}

function scatterShifted(dx: Float64Array, xBase: number, d: Dims, dy: Float64Array, yBase: number, o: Dims, du: number, dv: number, wv: number): void {
  const i1 = Math.min(o.h, d.h - du);
  const j1 = Math.min(o.w, d.w - dv);
  for (let i = Math.max(0, -du); i < i1; i++) {
    const yr = yBase + i * o.w;
    const xr = xBase + (i + du) * d.w + dv;
    for (let j = Math.max(0, -dv); j < j1; j++) dx[xr + j] += wv * dy[yr + j];
  }
}

/** 2x2 max pooling, stride 2 (odd rows or columns at the end dropped); `from` records each maximum's index in x. */
export function poolForward(x: Float64Array, d: Dims, batch: number): { y: Float64Array; from: Int32Array } {
  const o = poolOut(d);
  const n = batch * o.c * o.h * o.w;
  const y = new Float64Array(n);
  const from = new Int32Array(n);
  let q = 0;
  for (let bc = 0; bc < batch * d.c; bc++) {
    for (let i = 0; i < o.h; i++) {
      for (let j = 0; j < o.w; j++, q++) {
        const corner = bc * d.h * d.w + 2 * i * d.w + 2 * j;
        // the first maximum in row-major window order wins a tie, as any fixed rule would do for the gradient
        let best = corner;
        if (x[corner + 1] > x[best]) best = corner + 1;
        if (x[corner + d.w] > x[best]) best = corner + d.w;
        if (x[corner + d.w + 1] > x[best]) best = corner + d.w + 1;
        y[q] = x[best];
        from[q] = best;
      }
    }
  }
  return { y, from };
}

export function poolBackward(dy: Float64Array, from: Int32Array, inLength: number): Float64Array {
  const dx = new Float64Array(inLength);
  for (let q = 0; q < dy.length; q++) dx[from[q]] += dy[q];
  return dx;
}

/** y[b,j] = bias[j] + sum over i of weight[j,i] * x[b,i] (weight [out, in], as a DenseNode holds it). */
export function denseForward(x: Float64Array, nin: number, weight: Float64Array, bias: Float64Array, nout: number, batch: number): Float64Array {
  const y = new Float64Array(batch * nout);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < nout; j++) {
      let acc = bias[j];
      const wr = j * nin;
      const xr = b * nin;
      for (let i = 0; i < nin; i++) acc += weight[wr + i] * x[xr + i];
      y[b * nout + j] = acc;
    }
  }
  return y;
}

export function denseBackward(x: Float64Array, nin: number, weight: Float64Array, dy: Float64Array, nout: number, gWeight: Float64Array, gBias: Float64Array, batch: number): Float64Array {
  const dx = new Float64Array(batch * nin);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < nout; j++) {
      const g = dy[b * nout + j];
      if (g === 0) continue;
      gBias[j] += g;
      const wr = j * nin;
      const xr = b * nin;
      for (let i = 0; i < nin; i++) {
        gWeight[wr + i] += g * x[xr + i];
        dx[xr + i] += g * weight[wr + i];
      }
    }
  }
  return dx;
}

/** ReLU into a new array; its backward zeroes the gradient where the input was not positive (ReLU'(0) = 0). */
export function reluForward(x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
  return y;
}

export function reluBackward(pre: Float64Array, dy: Float64Array): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) dx[i] = pre[i] > 0 ? dy[i] : 0;
  return dx;
}
