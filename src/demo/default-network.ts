/**
 * The embedded default network: made deterministically by nnshrink's own tiny trainer, so a fresh clone can run the
 * main job with no download. Task: 5 inputs in [-1, 1], 3 classes, label = argmax of three simple piecewise-linear
 * scores. Training uses only + - * / and sqrt (all correctly rounded in IEEE arithmetic), so the weights are
 * bit-identical on every machine.
 */
import type { Layer, Network } from '../model/network.ts';
import { makeBox } from '../model/box.ts';
import { forward } from '../model/network.ts';
import { mulberry32 } from '../model/rng.ts';
import type { LoadedModel } from '../formats/model-file.ts';

export const DEFAULT_SIZES = [5, 24, 24, 12, 3];

export function defaultTaskScores(x: ArrayLike<number>): [number, number, number] {
  return [x[0] + 0.5 * x[1], x[2] - x[0] + 0.25, Math.abs(x[3] - x[4]) - 0.4];
}

export function defaultTaskLabel(x: ArrayLike<number>): number {
  const s = defaultTaskScores(x);
  return s[0] >= s[1] && s[0] >= s[2] ? 0 : s[1] >= s[2] ? 1 : 2;
}

let cached: Network | null = null;

export function trainDefaultNetwork(): Network {
  const rng = mulberry32(20211019);
  const sizes = DEFAULT_SIZES;
  const layers: Layer[] = [];
  for (let k = 1; k < sizes.length; k++) {
    const n = sizes[k - 1];
    const m = sizes[k];
    const a = Math.sqrt(6 / n);
    const w = new Float64Array(m * n);
    for (let i = 0; i < w.length; i++) w[i] = (rng() * 2 - 1) * a;
    layers.push({ inSize: n, outSize: m, weights: w, bias: new Float64Array(m).fill(0.01), relu: new Uint8Array(m).fill(k < sizes.length - 1 ? 1 : 0) });
  }
  const N = 1500;
  const X = new Float64Array(N * 5);
  for (let i = 0; i < X.length; i++) X[i] = rng() * 2 - 1;
  const lr = 0.02;
  const L = layers.length;
  const acts: Float64Array[] = sizes.map((s) => new Float64Array(s));
  const grads: Float64Array[] = sizes.map((s) => new Float64Array(s));
  for (let epoch = 0; epoch < 30; epoch++) {
    for (let s = 0; s < N; s++) {
      const x = X.subarray(s * 5, s * 5 + 5);
      acts[0].set(x);
      for (let k = 0; k < L; k++) {
        const Lk = layers[k];
        for (let i = 0; i < Lk.outSize; i++) {
          let z = Lk.bias[i];
          for (let j = 0; j < Lk.inSize; j++) z += Lk.weights[i * Lk.inSize + j] * acts[k][j];
          acts[k + 1][i] = Lk.relu[i] && z < 0 ? 0 : z;
        }
      }
      const label = defaultTaskLabel(x);
      const out = acts[L];
      for (let i = 0; i < out.length; i++) grads[L][i] = out[i] - (i === label ? 1 : 0);
      for (let k = L - 1; k >= 0; k--) {
        const Lk = layers[k];
        const gi = grads[k + 1];
        const go = grads[k];
        go.fill(0);
        for (let i = 0; i < Lk.outSize; i++) {
          // ReLU derivative: zero where the unit was inactive (its activation is exactly 0)
          const g = Lk.relu[i] && acts[k + 1][i] === 0 ? 0 : gi[i];
          if (g === 0) continue;
          for (let j = 0; j < Lk.inSize; j++) {
            go[j] += g * Lk.weights[i * Lk.inSize + j];
            Lk.weights[i * Lk.inSize + j] -= lr * g * acts[k][j];
          }
          Lk.bias[i] -= lr * g;
        }
      }
    }
  }
  return { inputSize: 5, layers };
}

/** The embedded demo network alone. */
export function defaultNetwork(): Network {
  if (!cached) cached = trainDefaultNetwork();
  return cached;
}

/** The embedded demo network (5 inputs in [-1, 1], 3 outputs) with its domain, as a loaded model whose path is `<default>`: what `--default` loads. */
export function defaultModel(): LoadedModel {
  return {
    network: defaultNetwork(),
    domain: makeBox([-1, -1, -1, -1, -1], [1, 1, 1, 1, 1]),
    format: 'json',
    path: '<default>',
  };
}

/** Accuracy of the default network on fresh points of its task (for the tests and `info`). */
export function defaultAccuracy(count = 2000, seed = 99): number {
  const rng = mulberry32(seed);
  const net = defaultNetwork();
  let ok = 0;
  for (let s = 0; s < count; s++) {
    const x = Float64Array.from({ length: 5 }, () => rng() * 2 - 1);
    const y = forward(net, x);
    const p = y[0] >= y[1] && y[0] >= y[2] ? 0 : y[1] >= y[2] ? 1 : 2;
    if (p === defaultTaskLabel(x)) ok++;
  }
  return ok / count;
}
