/**
 * Bounds on MNIST L-infinity balls: forward symbolic bounds against CROWN (which, with many inputs, starts from
 * layer-by-layer intervals): time per ball, unstable neurons per hidden layer, summed output width.
 * Run: node --import tsx bench/bounds.ts [images=3]
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../src/formats/load.ts';
import { makeBox } from '../src/model/box.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
import type { NetworkBounds } from '../src/bounds/types.ts';
import { sharedPath } from '../test/helpers/shared.ts';

const N = Number(process.argv[2] ?? 3);
const lines = readFileSync(sharedPath('mnist', 'data', 'mnist_test.csv'), 'utf8').trim().split('\n');
const unstable = (b: NetworkBounds): string => b.slice(0, -1).map((l) => l.lo.filter((v, i) => v < 0 && l.hi[i] > 0).length).join('/');
const width = (b: NetworkBounds): string => {
  const o = b[b.length - 1];
  return o.lo.reduce((s, v, i) => s + o.hi[i] - v, 0).toPrecision(4);
};
const timed = <T>(fn: () => T): [T, number] => {
  fn(); // warm-up (JIT), then the median of 3
  const ts: number[] = [];
  let r!: T;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    r = fn();
    ts.push(performance.now() - t0);
  }
  return [r, ts.sort((a, b) => a - b)[1]];
};
console.log('| network | image | radius | symbolic ms | CROWN ms | unstable per layer, symbolic | unstable, CROWN | output width, symbolic | CROWN |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const name of ['mnist-net_256x2.onnx', 'mnist-net_256x4.onnx']) {
  const m = loadModel(sharedPath('mnist', 'onnx', name));
  for (let li = 0; li < N; li++) {
    const x = lines[li].split(',').slice(1).map((v) => Number(v) / 255);
    for (const r of [0.02, 0.05]) {
      const box = makeBox(x.map((v) => Math.max(0, v - r)), x.map((v) => Math.min(1, v + r)));
      const [a, ta] = timed(() => symbolicBounds(m.network, box));
      const [b, tb] = timed(() => crownBounds(m.network, box));
      console.log(`| ${name} | ${li} | ${r} | ${ta.toFixed(0)} | ${tb.toFixed(0)} | ${unstable(a)} | ${unstable(b)} | ${width(a)} | ${width(b)} |`);
    }
  }
}
