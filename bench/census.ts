/**
 * ACAS Xu phase census: all 45 networks over the full raw NNet input box; per network never / always / both /
 * unknown and the time. Run: node --import tsx bench/census.ts [timeLimitSeconds=20] [networks e.g. 1_1,5_9 or all]
 * [workers=2] [tasks=64] [taskSeconds: default the limit shared among them] [splitShare=0.75] (the shared input-splitting
 * tree gets the time limit: in this thread with one worker, as two halves of the domain with half of it each on the
 * workers otherwise; then one task per open neuron, input splitting aimed at it then MILP, runs on the workers;
 * NNSHRINK_NO_MILP=1: the shared tree only)
 */
import { readNNet } from '../src/formats/nnet.ts';
import { phaseCensus, phaseCensusParallel } from '../src/verify/phase/phase.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { acasNnet } from '../test/helpers/shared.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';

if (process.env.NNSHRINK_NO_MILP !== '1') await loadMilpSolver();

const limit = Number(process.argv[2] ?? 20) * 1000;
const workers = Number(process.argv[4] ?? 2);
const which = process.argv[3] && process.argv[3] !== 'all' ? process.argv[3].split(',') : [...Array(45).keys()].map((k) => `${Math.floor(k / 9) + 1}_${(k % 9) + 1}`);
console.log(`| network | never | always | both | unknown | boxes | time (s) |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
const times: number[] = [];
let unknownNets = 0;
for (const id of which) {
  const [i, j] = id.split('_').map(Number);
  const m = readNNet(acasNnet(i, j));
  const t0 = Date.now();
  const opts = {
    boundsFn: crownBounds, timeoutMs: limit, finish: process.env.NNSHRINK_NO_MILP !== '1',
    finishTasks: Number(process.argv[5] ?? 64),
    ...(process.argv[6] ? { finishTaskMs: Number(process.argv[6]) * 1000 } : {}),
    ...(process.argv[7] ? { finishSplitShare: Number(process.argv[7]) } : {}),
  };
  const c = workers > 1 ? await phaseCensusParallel(m.network, [m.domain!], opts, workers) : phaseCensus(m.network, [m.domain!], opts);
  c.timeMs = Date.now() - t0;
  times.push(c.timeMs / 1000);
  if (c.counts.unknown) unknownNets++;
  console.log(`| ${id} | ${c.counts.never} | ${c.counts.always} | ${c.counts.both} | ${c.counts.unknown} | ${c.boxes} | ${(c.timeMs / 1000).toFixed(1)} |`);
}
times.sort((a, b) => a - b);
console.log(`\nmedian ${times[Math.floor(times.length / 2)].toFixed(1)} s per network; networks with unknowns: ${unknownNets} of ${which.length}`);
