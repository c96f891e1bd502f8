/**
 * Which input to halve next in the difference's input splitting: the one with the largest smear (ReluVal's, as
 * NeuroDiff uses it), |d y_o / d x_t| x width_t, with the gradient of the worst output o bounded by interval
 * arithmetic through f's ReLU phases on the box (derivative 0 for a dead neuron, 1 for an active one, [0, 1] for an
 * unstable one). The looseness of the difference bounds comes from f's unstable neurons, and an input that moves the
 * output a lot is the one that keeps them unstable. Only a choice: any dimension is sound.
 */
import type { Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';

/** The input with the largest smear for output `out` (-1 when every input is flat or the gradient vanishes). */
export function smearInput(net: Network, fb: NetworkBounds, box: Box, out: number): number {
  const { gl, gu } = outputGradient(net, fb, out);
  let best = -1;
  let bestSmear = 0;
  for (let t = 0; t < gl.length; t++) {
    const s = Math.max(Math.abs(gl[t]), Math.abs(gu[t])) * (box.hi[t] - box.lo[t]);
    if (s > bestSmear) {
      bestSmear = s;
      best = t;
    }
  }
  return best;
}

/** Bounds [gl, gu] of d y_out / d x over the box whose pre-activation bounds are fb (interval arithmetic). */
export function outputGradient(net: Network, fb: NetworkBounds, out: number): { gl: Float64Array; gu: Float64Array } {
  const last = net.layers.length - 1;
  let gl = new Float64Array(net.layers[last].outSize);
  let gu = new Float64Array(gl.length);
  gl[out] = 1;
  gu[out] = 1;
  for (let k = last; k >= 0; k--) {
    const L = net.layers[k];
    if (k < last) throughRelu(L.relu, fb[k].lo, fb[k].hi, gl, gu);
    const nl = new Float64Array(L.inSize);
    const nu = new Float64Array(L.inSize);
    for (let j = 0; j < L.outSize; j++) {
      const a = gl[j];
      const b = gu[j];
      if (a === 0 && b === 0) continue;
      const row = j * L.inSize;
      for (let i = 0; i < L.inSize; i++) {
        const w = L.weights[row + i];
        if (w >= 0) {
          nl[i] += w * a;
          nu[i] += w * b;
        } else {
          nl[i] += w * b;
          nu[i] += w * a;
        }
      }
    }
    gl = nl;
    gu = nu;
  }
  return { gl, gu };
}

/** The gradient interval through a layer's activations (pre-activation bounds lo, hi): relu' in {0}, {1} or [0, 1]. */
function throughRelu(relu: Uint8Array, lo: Float64Array, hi: Float64Array, gl: Float64Array, gu: Float64Array): void {
  for (let j = 0; j < gl.length; j++) {
    if (!relu[j] || lo[j] >= 0) continue;
    if (hi[j] <= 0) {
      gl[j] = 0;
      gu[j] = 0;
    } else {
      gl[j] = Math.min(gl[j], 0);
      gu[j] = Math.max(gu[j], 0);
    }
  }
}
