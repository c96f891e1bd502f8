/**
 * The training loop: minibatch SGD with momentum on the mean cross-entropy, the penalty's proximal step after every
 * update, the data shuffled each epoch from the seed. Everything is float64 in a fixed order, so a seed gives
 * bit-identical weights on any run.
 */
import { mulberry32 } from '../../model/rng.ts';
import type { ImageSet } from './data.ts';
import { logitsOf, lossAndGradient } from './model.ts';
import { initParams, layoutOf, type CnnArch, type Layout } from './net.ts';
import { momentumStep, NO_PENALTY, proximalStep, type Penalty } from './optim.ts';

export interface TrainOptions {
  /** of the initial weights and of the shuffles */
  seed: number;
  /** the work limit: passes over the training set */
  epochs: number;
  batch?: number;
  lr?: number;
  momentum?: number;
  penalty?: Penalty;
}

export interface Trained {
  readonly layout: Layout;
  readonly params: Float64Array;
  /** mean cross-entropy over each epoch's batches (before each batch's update) */
  readonly epochLoss: readonly number[];
}

function shuffle(order: Int32Array, r: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

/** Copies the samples order[from..from+m) into the batch buffers. */
function gather(data: ImageSet, order: Int32Array, from: number, m: number, x: Float64Array, labels: Int32Array): void {
  const plane = data.side * data.side;
  for (let k = 0; k < m; k++) {
    const s = order[from + k];
    x.set(data.x.subarray(s * plane, (s + 1) * plane), k * plane);
    labels[k] = data.labels[s];
  }
}

export function trainCnn(arch: CnnArch, data: ImageSet, o: TrainOptions): Trained {
  if (data.side !== arch.size) throw new Error(`internal: images of side ${data.side} for a CNN of side ${arch.size}`);
  const layout = layoutOf(arch);
  const params = initParams(layout, o.seed);
  const [batch, lr, momentum, penalty] = [o.batch ?? 32, o.lr ?? 0.05, o.momentum ?? 0.9, o.penalty ?? NO_PENALTY];
  const velocity = new Float64Array(params.length);
  const grad = new Float64Array(params.length);
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const r = mulberry32(o.seed ^ 0x5bd1e995);
  const x = new Float64Array(batch * data.side * data.side);
  const labels = new Int32Array(batch);
  const epochLoss: number[] = [];
  for (let e = 0; e < o.epochs; e++) {
    shuffle(order, r);
    let sum = 0;
    let steps = 0;
    // a last partial batch is dropped: every step sees `batch` samples
    for (let from = 0; from + batch <= data.n; from += batch) {
      gather(data, order, from, batch, x, labels);
      sum += lossAndGradient(layout, params, x, labels, batch, grad);
      momentumStep(params, velocity, grad, lr, momentum);
      proximalStep(layout, params, penalty, lr);
      steps++;
    }
    epochLoss.push(sum / Math.max(1, steps));
  }
  return { layout, params, epochLoss };
}

/** The fraction of the set whose largest logit is its label (ties: the first). */
export function accuracy(layout: Layout, params: Float64Array, data: ImageSet): number {
  const logits = logitsOf(layout, params, data.x, data.n);
  const k = layout.arch.classes;
  let right = 0;
  for (let s = 0; s < data.n; s++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[s * k + c] > logits[s * k + best]) best = c;
    if (best === data.labels[s]) right++;
  }
  return right / data.n;
}
