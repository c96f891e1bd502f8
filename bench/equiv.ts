/**
 * Equivalence: ACAS Xu 1_1 (normalised view, the VNN-COMP input box of property 3 and the full box) against a copy
 * with one hidden neuron removed and against a copy with float16-rounded weights: the proved max |f-g| next to the
 * largest difference found, and the time. Run: node --import tsx bench/equiv.ts [seconds=20] [diff|product] [workers]
 * (product: the two as strangers, side by side in one network, as `nnshrink equiv --method product` does; with
 * workers, its input-splitting trees' steps on that many threads)
 */
import { readNNet } from '../src/formats/nnet.ts';
import { cloneNetwork, type Network } from '../src/model/network.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { checkLinf } from '../src/verify/equiv/equiv.ts';
import { checkLinfProduct } from '../src/verify/equiv/equiv-product.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { acasNnet, sharedPath } from '../test/helpers/shared.ts';
import { WorkerPool } from '../src/pool/pool.ts';

const seconds = Number(process.argv[2] ?? 20);
const method = process.argv[3] ?? 'diff';
const workers = Number(process.argv[4] ?? 0);
const pool = workers > 0 ? new WorkerPool(workers) : undefined;
const f16 = (x: number): number => {
  // round to the nearest float16 value (normal range; ties to even via Math.round on the scaled mantissa)
  if (x === 0) return 0;
  const e = Math.max(-14, Math.floor(Math.log2(Math.abs(x))));
  const q = 2 ** (e - 10);
  return Math.round(x / q) * q;
};
const m = readNNet(acasNnet(1, 1), 'normalized');
const f = m.network;
const removed = cloneNetwork(f);
// remove hidden neuron 10 of layer 3: zero its outgoing weights
const L = removed.layers[3];
for (let r = 0; r < L.outSize; r++) L.weights[r * L.inSize + 10] = 0;
const half: Network = cloneNetwork(f);
for (const H of half.layers) {
  H.weights.forEach((w, i) => (H.weights[i] = f16(w)));
  H.bias.forEach((w, i) => (H.bias[i] = f16(w)));
}
const boxes = { 'property 3 box': readVnnlib(sharedPath('acasxu', 'vnnlib', 'prop_3.vnnlib')).regions[0].box, 'full box': m.domain! };
console.log('| g | domain | proved max abs(f-g) | largest found | ratio | boxes | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [gname, g] of [['one neuron removed (3:10)', removed], ['weights rounded to float16', half]] as const) {
  for (const [bname, box] of Object.entries(boxes)) {
    const t = Date.now();
    const r =
      method === 'product'
        ? await checkLinfProduct(f, g, [box], 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: seconds * 1000, pool })
        : checkLinf(alignedPair(f, g), [box], 0, { boundsFn: crownBounds, timeoutMs: seconds * 1000, samples: 4096 });
    console.log(`| ${gname} | ${bname} | ${r.provedBound.toExponential(3)} | ${r.foundMax.toExponential(3)} | ${(r.provedBound / r.foundMax).toFixed(2)} | ${r.boxes} | ${((Date.now() - t) / 1000).toFixed(1)} |`);
  }
}
await pool?.close();
