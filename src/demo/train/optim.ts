/**
 * SGD with momentum and the L1 terms as PROXIMAL steps: after each update the penalised weights are soft-thresholded
 * (elementwise L1: w <- sign(w) max(|w| - lr lambda, 0)) or shrunk as groups (group lasso over each output channel's
 * incoming weights: w_g <- w_g max(0, 1 - lr lambda sqrt(|g|) / ||w_g||)), so weights and whole filters become
 * exactly 0, which a subgradient step never does. Biases are not penalised.
 */
import { view, type Layout } from './net.ts';

export type Penalty =
  | { readonly kind: 'none' }
  /** lambda |w| summed over the weights of every layer */
  | { readonly kind: 'l1'; readonly lambda: number }
  /** lambda sqrt(|g|) ||w_g|| summed over the output channels g of conv1, conv2 and fc1 (not the output layer) */
  | { readonly kind: 'group'; readonly lambda: number };

export const NO_PENALTY: Penalty = { kind: 'none' };

/** velocity <- momentum velocity + grad; params <- params - lr velocity. */
export function momentumStep(params: Float64Array, velocity: Float64Array, grad: Float64Array, lr: number, momentum: number): void {
  for (let i = 0; i < params.length; i++) {
    velocity[i] = momentum * velocity[i] + grad[i];
    params[i] -= lr * velocity[i];
  }
}

function softThreshold(w: Float64Array, t: number): void {
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]) - t;
    w[i] = a > 0 ? Math.sign(w[i]) * a : 0;
  }
}

/** Each row of `w` (rows of `rowLength`) scaled towards 0 by `t sqrt(rowLength)` in norm, to exactly 0 within it. */
function groupShrink(w: Float64Array, rowLength: number, t: number): void {
  const cut = t * Math.sqrt(rowLength);
  for (let r = 0; r < w.length; r += rowLength) {
    let sq = 0;
    for (let i = r; i < r + rowLength; i++) sq += w[i] * w[i];
    const norm = Math.sqrt(sq);
    const scale = norm > cut ? 1 - cut / norm : 0;
    for (let i = r; i < r + rowLength; i++) w[i] = scale === 0 ? 0 : w[i] * scale;
  }
}

/** The proximal step of the penalty with step size lr. */
export function proximalStep(l: Layout, params: Float64Array, penalty: Penalty, lr: number): void {
  if (penalty.kind === 'none') return;
  const t = lr * penalty.lambda;
  for (const layer of l.layers) {
    const w = view(params, layer.weight);
    if (penalty.kind === 'l1') softThreshold(w, t);
    else if (layer.name !== 'fc2') groupShrink(w, layer.weight.length / layer.weight.shape[0], t);
  }
}

