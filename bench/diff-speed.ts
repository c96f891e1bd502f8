/**
 * Issue 30: the cost of one box of the difference engine, and the search on the whole domain. ACAS Xu N against
 * NeuroDiff's 16-bit copy (the files bench/neurodiff.ts prepares under /tmp/neurodiff/nets), by default cut to
 * the property's target output (NeuroDiff's question: 4 on property 7, 0 on 1-4; `all`: the five outputs), on the
 * whole domain.
 *   parts: a search of B boxes is recorded (each box and the parent bounds it started from), then replayed R times
 *          part by part: f's CROWN bounds, the symbolic difference, the backward bound of the outputs and of the
 *          hidden layers, the smear; CPU ms per box of each.
 *   search: checkLinf at EPS with a work limit of B boxes, the open bound every STEP boxes, CPU s and boxes / s.
 * PROP=1|3|4 takes that VNN-COMP property's box instead of the whole domain; TIME=s a time limit (wall clock)
 * instead of the work limit B.
 * Run: node --import tsx bench/diff-speed.ts parts|search [net=1_9] [B=400] [EPS=0.05] [outputs=target|all]
 *   [STEP=1000]; SPLIT=smear|widest|trial and SKIP=factor (0: off) are passed to the search.
 */
import { readNNet } from '../src/formats/nnet.ts';
import type { Network } from '../src/model/network.ts';
import type { Box } from '../src/model/box.ts';
import type { NetworkBounds } from '../src/bounds/types.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { planDifference } from '../src/verify/equiv/diff/diff-plan.ts';
import { differenceBounds } from '../src/verify/equiv/diff/diff-bounds.ts';
import { smearInput } from '../src/verify/equiv/diff-smear.ts';
import { checkLinf, type EquivOptions } from '../src/verify/equiv/equiv.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { acasNnet, sharedPath } from '../test/helpers/shared.ts';

const [mode = 'parts', id = '1_9', nBoxes = '400', epsArg = '0.05', outputs = 'target', stepArg = '1000'] = process.argv.slice(2);
const dir = '/tmp/neurodiff/nets';
const load = (p: string): { net: Network; box: Box } => {
  const m = readNNet(p, 'normalized');
  return { net: m.network, box: { lo: Float64Array.from(m.domain!.lo), hi: Float64Array.from(m.domain!.hi) } };
};
// NeuroDiff's target output: 0 on properties 1-4, 4 on property 7
const t = process.env.PROP ? 0 : 4;
const [fa, ga] = outputs === 'all' ? [acasNnet(...(id.split('_').map(Number) as [number, number])), `${dir}/${id}_16bit.nnet`] : [`${dir}/${id}_o${t}.nnet`, `${dir}/${id}_16bit_o${t}.nnet`];
const { net: f, box: whole } = load(fa);
// PROP=1|3|4: a VNN-COMP property box instead of the whole domain (property 7's)
const domain = process.env.PROP ? readVnnlib(sharedPath('acasxu', 'vnnlib', `prop_${process.env.PROP}.vnnlib`)).regions[0].box : whole;
const g = load(ga).net;
const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const split = (process.env.SPLIT ?? 'smear') as EquivOptions['split'];

if (mode === 'parts') {
  // record the boxes of a search and the parent bounds each started from
  const rec: Array<{ box: Box; parent?: NetworkBounds }> = [];
  const boundsFn = (n: Network, b: Box, parent?: NetworkBounds): NetworkBounds => {
    if (n === f) rec.push({ box: b, parent });
    return crownBounds(n, b, parent);
  };
  checkLinf(alignedPair(f, g), [domain], Number(epsArg), { boundsFn, timeoutMs: 1e9, maxBoxes: Number(nBoxes), samples: 256, split });
  const plan = planDifference(alignedPair(f, g));
  const reps = Number(process.env.REPS ?? 3);
  const time = (name: string, fn: (r: (typeof rec)[number], fb: NetworkBounds) => void): void => {
    const fbs = rec.map((r) => crownBounds(f, r.box, r.parent));
    const t = cpu();
    for (let k = 0; k < reps; k++) rec.forEach((r, i) => fn(r, fbs[i]));
    console.log(`${name.padEnd(34)} ${((cpu() - t) / reps / rec.length).toFixed(3)} ms / box`);
  };
  console.log(`${id} (${outputs}) whole domain: ${rec.length} boxes of a search at eps ${epsArg}, ${reps} replays`);
  // per layer: f's dead, unstable and active neurons, averaged over the boxes
  const L = f.layers.length - 1;
  const st = Array.from({ length: L }, () => [0, 0, 0]);
  for (const r of rec) {
    const fb = crownBounds(f, r.box, r.parent);
    for (let k = 0; k < L; k++) for (let j = 0; j < fb[k].lo.length; j++) st[k][fb[k].hi[j] <= 0 ? 0 : fb[k].lo[j] >= 0 ? 2 : 1]++;
  }
  console.log(`f's neurons per hidden layer, dead / unstable / active, mean over the boxes: ${st.map((s) => s.map((v) => (v / rec.length).toFixed(1)).join('/')).join(', ')}`);
  time('f CROWN (from the parent)', (r) => crownBounds(f, r.box, r.parent));
  time('intervals only', (r, fb) => differenceBounds(plan, r.box, fb, {}));
  time('+ symbolic', (r, fb) => differenceBounds(plan, r.box, fb, { symbolic: true }));
  time('+ symbolic + backward outputs', (r, fb) => differenceBounds(plan, r.box, fb, { symbolic: true, backward: true }));
  time('+ symbolic + backward all (the box)', (r, fb) => differenceBounds(plan, r.box, fb, { symbolic: true, backward: true, hidden: true }));
  time('smear', (r, fb) => smearInput(f, fb, r.box, 0));
} else {
  const c0 = cpu();
  let last = 0;
  // TIME=s: a time limit instead of the work limit
  const r = checkLinf(alignedPair(f, g), [domain], Number(epsArg), {
    boundsFn: crownBounds,
    timeoutMs: process.env.TIME ? Number(process.env.TIME) * 1000 : 1e9,
    maxBoxes: process.env.TIME ? undefined : Number(nBoxes),
    samples: 4096,
    split,
    skipFactor: process.env.SKIP ? Number(process.env.SKIP) : undefined,
    onProgress: (done, open, top) => {
      if (done - last < Number(stepArg)) return;
      last = done;
      const s = (cpu() - c0) / 1000;
      console.log(`boxes ${done}, open ${open}, open bound ${top?.toExponential(3)}, cpu ${s.toFixed(1)} s, ${(done / s).toFixed(0)} boxes / cpu s`);
    },
  });
  const s = (cpu() - c0) / 1000;
  console.log(`${id} (${outputs}) ${process.env.PROP ? `prop ${process.env.PROP}` : 'whole domain'} eps ${epsArg} split ${split} skip ${process.env.SKIP ?? 'default'}: ${r.verdict.status}, boxes ${r.boxes}, bound ${r.provedBound.toExponential(3)}, found ${r.foundMax.toExponential(2)}, cpu ${s.toFixed(1)} s, ${(r.boxes / s).toFixed(0)} boxes / cpu s`);
}
