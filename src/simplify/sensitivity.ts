/**
 * Cheap estimates used only to ORDER tolerance candidates (never as proof): how strongly each hidden neuron's
 * post-activation can move an output, measured by exact back-propagation at sample points.
 */
import { forwardTrace, type Network } from '../model/network.ts';

/** sens[k][j] = max over samples and outputs of |d y_o / d a_{k,j}| (a = post-activation of hidden neuron j of layer k). */
export function neuronSensitivity(net: Network, xs: Float64Array, batch: number): Float64Array[] {
  const L = net.layers.length;
  const tr = forwardTrace(net, xs, batch);
  const sens = net.layers.map((l) => new Float64Array(l.outSize));
  const m = net.layers[L - 1].outSize;
  for (let s = 0; s < batch; s++) {
    for (let o = 0; o < m; o++) {
      // gradient w.r.t. the output layer's pre-activation
      let g = new Float64Array(m);
      g[o] = net.layers[L - 1].relu[o] && tr.pre[L - 1][s * m + o] < 0 ? 0 : 1;
      for (let k = L - 1; k >= 1; k--) {
        const lay = net.layers[k];
        const below = net.layers[k - 1];
        const n = lay.inSize;
        const ga = new Float64Array(n);
        for (let i = 0; i < lay.outSize; i++) {
          const gi = g[i];
          if (gi === 0) continue;
          const row = i * n;
          for (let j = 0; j < n; j++) ga[j] += gi * lay.weights[row + j];
        }
        const sk = sens[k - 1];
        const pre = tr.pre[k - 1];
        const gz = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          const v = Math.abs(ga[j]);
          if (v > sk[j]) sk[j] = v;
          gz[j] = below.relu[j] && pre[s * n + j] < 0 ? 0 : ga[j];
        }
        g = gz;
      }
    }
  }
  return sens;
}
