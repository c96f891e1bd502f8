/**
 * Falsification by local search: projected (sign-)gradient ascent of a linear function of one layer's
 * pre-activations over a box, from several starting points. Used to find inputs that make a neuron active (or
 * inactive) when plain sampling missed a small region. Results are plain evaluations: the caller re-checks them.
 */
import { forwardTrace, type Network, type Trace } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import { milpAvailable } from './milp.ts';
import { regionArgmin } from './linear-region.ts';

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

/**
 * A stronger local search for piecewise-linear networks: on the linear region of the current point (every ReLU below
 * layer k keeps its sign) c . z_k is affine in the input, so an LP over that region (the box and one half-space per
 * ReLU) gives its exact maximum; a few short sign-gradient steps from there cross into a better neighbouring region,
 * and the walk repeats while it improves. Finds thin pockets that gradient steps alone stall before (ACAS Xu 4_9,
 * neuron 5:9: +3.28 from the 16 best of 4,096 samples, where ascent reaches -2.78). Needs the LP solver (milp.ts);
 * without it, plain ascent. Results are plain evaluations.
 */
export function maximizeByRegions(
  net: Network,
  box: Box,
  k: number,
  c: Float64Array,
  starts: Float64Array[],
  deadline: number,
  maxSteps = 40,
): { x: Float64Array; value: number } {
  if (!milpAvailable()) return maximizeBySearch(net, box, k, c, starts);
  let bestX: Float64Array = starts[0].slice();
  let best = objective(net, bestX, k, c);
  for (const s of starts) {
    let x: Float64Array = s.slice();
    let v = objective(net, x, k, c);
    for (let it = 0; it < maxSteps && Date.now() < deadline; it++) {
      let nx: Float64Array = x;
      let nv = v;
      const y = regionArgmax(net, box, k, c, x, deadline);
      if (y) {
        const vy = objective(net, y, k, c);
        if (vy > nv) {
          nx = y;
          nv = vy;
        }
      }
      const step = maximizeBySearch(net, box, k, c, [nx], 8, 0.002);
      if (step.value > nv) {
        nx = step.x;
        nv = step.value;
      }
      if (!(nv > v + 1e-12 * (1 + Math.abs(v)))) break;
      x = nx;
      v = nv;
    }
    if (v > best) {
      best = v;
      bestX = x;
    }
    if (Date.now() >= deadline) break;
  }
  return { x: bestX, value: best };
}

/** The maximiser of c . z_k over the linear region of x (every ReLU below k keeps its sign there), or undefined. */
function regionArgmax(net: Network, box: Box, k: number, c: Float64Array, x: Float64Array, deadline: number): Float64Array | undefined {
  const pre = forwardTrace(net, x, 1).pre;
  const negC = c.map((v) => -v);
  return regionArgmin(net, box, k, negC, (l, i) => ({ active: pre[l][i] >= 0, enforce: true }), Math.max(10, deadline - Date.now()));
}
