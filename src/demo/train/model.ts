/** The CNN's forward pass, softmax cross-entropy, and the backward pass to the gradient of the mean loss. */
import { convBackward, convForward, denseBackward, denseForward, poolBackward, poolForward, reluBackward, reluForward } from './layers.ts';
import { view, type Layout } from './net.ts';

/** What the backward pass needs from the forward one. */
interface Trace {
  x: Float64Array;
  pre1: Float64Array;
  act1: Float64Array;
  pooled: Float64Array;
  from: Int32Array;
  pre2: Float64Array;
  act2: Float64Array;
  pre3: Float64Array;
  act3: Float64Array;
  logits: Float64Array;
}

function forwardTrace(l: Layout, p: Float64Array, x: Float64Array, batch: number): Trace {
  const [c1, c2, f1, f2] = l.layers;
  const pre1 = convForward(x, l.in, l.conv1, view(p, c1.weight), view(p, c1.bias), batch);
  const act1 = reluForward(pre1);
  const { y: pooled, from } = poolForward(act1, l.dims.c1, batch);
  const pre2 = convForward(pooled, l.dims.pooled, l.conv2, view(p, c2.weight), view(p, c2.bias), batch);
  const act2 = reluForward(pre2);
  // the flatten is free: [c, h, w] per sample is already row-major
  const pre3 = denseForward(act2, l.flat, view(p, f1.weight), view(p, f1.bias), l.arch.hidden, batch);
  const act3 = reluForward(pre3);
  const logits = denseForward(act3, l.arch.hidden, view(p, f2.weight), view(p, f2.bias), l.arch.classes, batch);
  return { x, pre1, act1, pooled, from, pre2, act2, pre3, act3, logits };
}

/** The logits [batch, classes]. */
export function logitsOf(l: Layout, p: Float64Array, x: Float64Array, batch: number): Float64Array {
  return forwardTrace(l, p, x, batch).logits;
}

/** Mean cross-entropy of softmax(logits) against the labels; dLogits (of the mean) written when given. */
export function crossEntropy(logits: Float64Array, labels: Int32Array, classes: number, batch: number, dLogits?: Float64Array): number {
  let loss = 0;
  for (let b = 0; b < batch; b++) {
    const r = b * classes;
    let m = -Infinity;
    for (let k = 0; k < classes; k++) m = Math.max(m, logits[r + k]);
    let z = 0;
    for (let k = 0; k < classes; k++) z += Math.exp(logits[r + k] - m);
    loss += Math.log(z) + m - logits[r + labels[b]];
    if (!dLogits) continue;
    for (let k = 0; k < classes; k++) dLogits[r + k] = (Math.exp(logits[r + k] - m) / z - (k === labels[b] ? 1 : 0)) / batch;
  }
  return loss / batch;
}

/** The mean loss on the batch; its gradient with respect to every parameter written into `grad` (overwritten). */
export function lossAndGradient(l: Layout, p: Float64Array, x: Float64Array, labels: Int32Array, batch: number, grad: Float64Array): number {
  const t = forwardTrace(l, p, x, batch);
  const [c1, c2, f1, f2] = l.layers;
  const dLogits = new Float64Array(t.logits.length);
  const loss = crossEntropy(t.logits, labels, l.arch.classes, batch, dLogits);
  grad.fill(0);
  const dAct3 = denseBackward(t.act3, l.arch.hidden, view(p, f2.weight), dLogits, l.arch.classes, view(grad, f2.weight), view(grad, f2.bias), batch);
  const dPre3 = reluBackward(t.pre3, dAct3);
  const dAct2 = denseBackward(t.act2, l.flat, view(p, f1.weight), dPre3, l.arch.hidden, view(grad, f1.weight), view(grad, f1.bias), batch);
  const dPre2 = reluBackward(t.pre2, dAct2);
  const dPooled = convBackward(t.pooled, l.dims.pooled, l.conv2, view(p, c2.weight), dPre2, view(grad, c2.weight), view(grad, c2.bias), batch, true)!;
  const dAct1 = poolBackward(dPooled, t.from, t.act1.length);
  const dPre1 = reluBackward(t.pre1, dAct1);
  convBackward(t.x, l.in, l.conv1, view(p, c1.weight), dPre1, view(grad, c1.weight), view(grad, c1.bias), batch, false);
  return loss;
}
