/**
 * Maximise / minimise (issue 3, question 3): the enclosure [witness value, proved bound] of an output's or a hidden
 * neuron's optimum over a box, at the default precision (gap at most max(1e-3, 1e-3 x |value|)), and the time.
 * ACAS Xu (normalised ONNX): output 0 (clear-of-conflict score) over the input boxes of VNN-COMP properties 3 and 1,
 * nine networks; 5_9's fourth-layer neuron 48 over the full NNet box; MNIST 256x2: the margin y_label - y_j over two
 * 0.03 balls (784 inputs: input splitting barely helps, the enclosure after the limit is the answer).
 * Run: node --import tsx bench/maximize.ts [seconds=30]
 */
import { loadModel } from '../src/formats/load.ts';
import { readNNet } from '../src/formats/nnet.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import type { Network } from '../src/model/network.ts';
import type { Box } from '../src/model/box.ts';
import { maximizeLinear, minimizeLinear } from '../src/verify/property/maximize.ts';
import { acasNnet, acasOnnx, sharedPath } from '../test/helpers/shared.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';

// as the command line does: the witness walks and the fully split ReLU-splitting nodes use the LP solver
await loadMilpSolver();

const seconds = Number(process.argv[2] ?? 30);
console.log(`time limit ${seconds} s per question\n`);
console.log('| network | objective | domain | witness value | proved bound | gap | status | boxes | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const row = (net: Network, name: string, what: string, where: string, domain: Box[], k: number, c: Float64Array, max: boolean): void => {
  const r = (max ? maximizeLinear : minimizeLinear)(net, domain, k, c, 0, { timeoutMs: seconds * 1000 });
  const gap = Math.abs(r.bound - r.value);
  console.log(`| ${name} | ${what} | ${where} | ${r.value.toFixed(5)} | ${r.bound.toFixed(5)} | ${gap.toPrecision(2)} | ${r.status}${r.reason ? ` (${r.reason})` : ''} | ${r.boxes} | ${(r.timeMs / 1000).toFixed(1)} |`);
};
const region = (p: number): Box => readVnnlib(sharedPath('acasxu', 'vnnlib', `prop_${p}.vnnlib`)).regions[0].box;
const y0 = Float64Array.of(1, 0, 0, 0, 0);
for (const id of ['1_1', '1_9', '2_1', '2_7', '3_3', '3_5', '4_4', '5_1', '5_9']) {
  const [i, j] = id.split('_').map(Number);
  const net = loadModel(acasOnnx(i, j)).network;
  const k = net.layers.length - 1;
  row(net, id, 'max y0', 'prop 3 box', [region(3)], k, y0, true);
  row(net, id, 'min y0', 'prop 3 box', [region(3)], k, y0, false);
  row(net, id, 'max y0', 'prop 1 box', [region(1)], k, y0, true);
}
{
  const m = readNNet(acasNnet(5, 9));
  const c = new Float64Array(50);
  c[48] = 1;
  row(m.network, '5_9', 'max z[4][48]', 'full NNet box', [m.domain!], 3, c, true);
}
const mnist = loadModel(sharedPath('mnist', 'onnx', 'mnist-net_256x2.onnx')).network;
for (const p of ['prop_0_0.03', 'prop_1_0.03']) {
  const prop = readVnnlib(sharedPath('mnist', 'vnnlib', `${p}.vnnlib`));
  // the first unsafe conjunction reads y_j >= y_label, i.e. y_label - y_j <= 0: +1 at the label, -1 at j
  const co = prop.regions[0].unsafe[0][0].coeffs;
  const label = co.findIndex((v) => v > 0);
  const other = co.findIndex((v) => v < 0);
  const c = new Float64Array(co.length);
  c[label] = 1;
  c[other] = -1;
  row(mnist, '256x2', `min y${label} - y${other}`, `${p} ball`, [prop.regions[0].box], mnist.layers.length - 1, c, false);
}
