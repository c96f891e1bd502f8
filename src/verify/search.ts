/**
 * Falsification by local search: projected (sign-)gradient ascent of a linear function of one layer's
 * pre-activations over a box, from several starting points. Used to find inputs that make a neuron active (or
 * inactive) when plain sampling missed a small region. Results are plain evaluations: the caller re-checks them.
 */
import { forwardTrace, type Network, type Trace } from '../model/network.ts';
import type { Box } from '../model/box.ts';

/** Gradient of c . z_k (pre-activations of layer k) with respect to the input, at x (whose trace may be given). */
export function inputGradient(net: Network, x: Float64Array, k: number, c: Float64Array, trace?: Trace): Float64Array {
  const tr = trace ?? forwardTrace(net, x, 1);
  let g = Float64Array.from(c);
  for (let l = k; l >= 0; l--) {
    const L = net.layers[l];
    const n = L.inSize;
    const gin = new Float64Array(n);
    for (let i = 0; i < L.outSize; i++) {
      const gi = g[i];
      if (gi === 0) continue;
      for (let j = 0; j < n; j++) gin[j] += gi * L.weights[i * n + j];
    }
    if (l > 0) {
      const below = net.layers[l - 1];
      const pre = tr.pre[l - 1];
      for (let j = 0; j < n; j++) if (below.relu[j] && pre[j] < 0) gin[j] = 0;
    }
    g = gin;
  }
  return g;
}

function objective(net: Network, x: Float64Array, k: number, c: Float64Array): number {
  const tr = forwardTrace(net, x, 1);
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i] * tr.pre[k][i];
  return s;
}

/**
 * Maximises c . z_k over the box from the given starts; returns the best point and value found.
 * Deterministic: no randomness beyond the starts given.
 */
export function maximizeBySearch(
  net: Network,
  box: Box,
  k: number,
  c: Float64Array,
  starts: Float64Array[],
  steps = 40,
  /** the first step, as a share of each input's range (halved after every step that does not improve) */
  firstStep = 0.25,
): { x: Float64Array; value: number } {
  const n = net.inputSize;
  let bestX = starts[0].slice();
  let best = objective(net, bestX, k, c);
  for (const s of starts) {
    let x = s.slice();
    let v = objective(net, x, k, c);
    let step = firstStep;
    for (let it = 0; it < steps; it++) {
      const g = inputGradient(net, x, k, c);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const w = box.hi[i] - box.lo[i];
        y[i] = Math.min(box.hi[i], Math.max(box.lo[i], x[i] + step * w * Math.sign(g[i])));
      }
      const vy = objective(net, y, k, c);
      if (vy > v) {
        x = y;
        v = vy;
      } else {
        step *= 0.5;
        if (step < 1e-6) break;
      }
    }
    if (v > best) {
      best = v;
      bestX = x;
    }
  }
  return { x: bestX, value: best };
}
