/**
 * Tight difference bounds (issue 30, part 2): ACAS Xu 1_1 and 1_9 (normalised units, as NeuroDiff and the VNN-COMP
 * files use) against NeuroDiff's 16-bit copies (its artifact's compressed_nnets, float16-rounded weights) and
 * against nnshrink's own float16 quantisation, on property 7's box (the whole domain). Per pair: the bound of
 * max |f - g| after one pass over the box, and the time (and boxes) to prove 0.05 and 0.01 by input splitting.
 * The artifact's files: `git show HEAD:DiffNN-Code/compressed_nnets/ACASXU_run2a_I_J_batch_2000_16bit.nnet` from
 * a clone of pauls658/NeuroDiff-ASE2020-Artifact, into DIR (their header lists 7 input ranges for 5 inputs: only
 * the weights are read from them).
 * Also the VNN-COMP property boxes 1-4 (at most 60 s each).
 * Run: [SPLIT=smear|widest|trial] node --import tsx bench/diff-tight.ts [seconds=60] [DIR=/tmp/diff/nets] [nets=1_1,1_9]
 *   [eps=0.05,0.01] [properties=7,1,3,4]
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readNNet } from '../src/formats/nnet.ts';
import { cloneNetwork, type Network } from '../src/model/network.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { planDifference } from '../src/verify/equiv/diff/diff-plan.ts';
import { maxAbsOutputDiff } from '../src/verify/equiv/diff/diff-bounds.ts';
import { boxDiff } from '../src/verify/equiv/diff-bab.ts';
import { checkLinf } from '../src/verify/equiv/equiv.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { storeNetwork, storedNetwork } from '../src/simplify/quantize/values.ts';
import { acasNnet, sharedPath } from '../test/helpers/shared.ts';

const seconds = Number(process.argv[2] ?? 60);
const dir = process.argv[3] ?? '/tmp/diff/nets';
const nets = (process.argv[4] ?? '1_1,1_9').split(',');
const epsilons = (process.argv[5] ?? '0.05,0.01').split(',').map(Number);

/** The weights and biases of a NNet file (after its 10 header lines, comments skipped) into a copy of f. */
function withNNetWeights(f: Network, path: string): Network {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => !l.startsWith('//'));
  const nums = lines.slice(7).join(',').split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const g = cloneNetwork(f);
  let at = 0;
  for (const L of g.layers) {
    for (let i = 0; i < L.weights.length; i++) L.weights[i] = nums[at++];
    for (let i = 0; i < L.bias.length; i++) L.bias[i] = nums[at++];
  }
  if (at !== nums.length || nums.some((v) => !Number.isFinite(v))) throw new Error(`${path}: ${nums.length} numbers, expected ${at}`);
  return g;
}

const propBox = (p: number) => readVnnlib(sharedPath('acasxu', 'vnnlib', `prop_${p}.vnnlib`)).regions[0].box;
// property 7's box is the whole domain; 1 and 2 share one box
const domains = (process.argv[6] ?? '7,1,3,4').split(',').map((p) => ({ name: p === '7' ? 'prop 7 (whole)' : p === '1' ? 'prop 1/2' : `prop ${p}`, box: propBox(Number(p)), seconds: p === '7' ? seconds : Math.min(seconds, 60) }));
const split = (process.env.SPLIT ?? 'smear') as 'smear' | 'widest' | 'trial';
const opts = { boundsFn: crownBounds, timeoutMs: seconds * 1000, samples: 4096, split };
console.log(`split ${split}, ${seconds} s per proof; s = wall clock (cpu = this process's CPU time: the machine is shared)\n`);
console.log(`| pair | domain | one pass bound | largest found | ${epsilons.map((e) => `prove ${e}: verdict, boxes, s`).join(' | ')} |`);
console.log(`| --- | --- | --- | --- | ${epsilons.map(() => '---').join(' | ')} |`);
for (const n of nets) {
  const [i, j] = n.split('_').map(Number);
  const f = readNNet(acasNnet(i, j), 'normalized').network;
  const art = join(dir, `ACASXU_run2a_${n}_batch_2000_16bit.nnet`);
  const pairs: Array<[string, Network]> = [];
  if (existsSync(art)) pairs.push([`${n} vs NeuroDiff 16-bit`, withNNetWeights(f, art)]);
  const own = storedNetwork(f, storeNetwork(f, { to: 'float16', perChannel: false, keepFloat: [] }));
  const same = pairs.length > 0 && own.layers.every((L, k) => L.weights.every((w, t) => w === pairs[0][1].layers[k].weights[t]) && L.bias.every((b, t) => b === pairs[0][1].layers[k].bias[t]));
  if (same) console.log(`(${n}: nnshrink's float16 copy has the same numbers as NeuroDiff's 16-bit copy)`);
  else pairs.push([`${n} vs nnshrink float16`, own]);
  for (const [name, g] of pairs) {
    for (const dom of domains) {
      const plan = planDifference(alignedPair(f, g));
      const t = Date.now();
      const one = maxAbsOutputDiff(boxDiff(plan, dom.box, opts).d);
      const oneMs = Date.now() - t;
      const cells: string[] = [];
      let found = 0;
      for (const eps of epsilons) {
        const c0 = process.cpuUsage().user;
        const r = checkLinf(alignedPair(f, g), [dom.box], eps, { ...opts, timeoutMs: dom.seconds * 1000 });
        const cpu = (process.cpuUsage().user - c0) / 1e6;
        found = Math.max(found, r.foundMax);
        cells.push(`${r.verdict.status}${r.verdict.status === 'unknown' ? ` (open ${(r.verdict.detail as { openBound?: number }).openBound?.toExponential(2)})` : ''}, ${r.boxes}, ${(r.verdict.timeMs / 1000).toFixed(1)} (cpu ${cpu.toFixed(1)})`);
      }
      console.log(`| ${name} | ${dom.name} | ${one.toExponential(3)} (${oneMs} ms) | ${found.toExponential(3)} | ${cells.join(' | ')} |`);
    }
  }
}
