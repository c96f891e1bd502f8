/**
 * The smallest eps `nnshrink equiv` proves per network on the whole domain (NeuroDiff's property 7 box, normalised
 * units) for the artifact's 16-bit copy: first `--epsilon 0` within S seconds (its proved max |f-g| is the first
 * upper end, the largest difference found the lower end), then K geometric bisection steps of S seconds each (an eps
 * proved becomes the upper end, one not proved within S the lower end). Prints the smallest eps proved.
 * Run: node --import tsx bench/neurodiff/min-eps.ts NETS [S=30] [K=4] [all|target] [ND_SRC=/work/neurodiff-src] [NNSHRINK]
 *   all: max over the 5 outputs (L-infinity); target: output 4 only, NeuroDiff's question on property 7
 */
import { join, resolve } from 'node:path';
import { preparePair, single } from './nets.ts';
import { domainArg, ndProbe } from './probe.ts';
import { runNnshrink } from './run.ts';

const [nets = '1_9', sArg = '30', kArg = '4', outputs = 'all', nd = '/work/neurodiff-src', nnRoot] = process.argv.slice(2);
const S = Number(sArg);
const K = Number(kArg);
// NNSHRINK: the nnshrink tree to run (default this one; bench/neurodiff.ts --snapshot leaves a fixed copy)
const root = nnRoot ?? resolve(import.meta.dirname, '../..');
const ndDir = join(nd, 'DiffNN-Code');
const netsDir = '/tmp/neurodiff/nets';

console.log(`| net | outputs | largest found | proved with --epsilon 0 in ${S} s | smallest eps proved (${K} steps of ${S} s) | steps proved | wall (s) |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const id of nets.split(',')) {
  const pair = preparePair(id, ndDir, netsDir);
  const box = ndProbe(join(nd, 'probe', 'nd_probe'), 7, pair.ndOrig, pair.ndCopy);
  const [a, b] = outputs === 'all' ? [pair.orig, pair.copy] : [single(pair.orig, box.target, netsDir, id), single(pair.copy, box.target, netsDir, `${id}_16bit`)];
  const domain = domainArg(box.lo, box.hi);
  const t0 = performance.now();
  const first = await runNnshrink(root, a, b, domain, 0, S);
  if (first.verdict === 'error' || first.provedMax === null || first.provedMax === undefined) throw new Error(`${id}: ${first.note ?? 'no proved bound'}`);
  let hi = first.provedMax;
  let lo = first.foundMax ?? 0;
  const proved: string[] = [];
  for (let k = 0; k < K && lo > 0 && hi / lo > 1.05; k++) {
    // a round eps (3 significant digits) slightly above the geometric middle
    const mid = Number(Math.sqrt(lo * hi).toPrecision(3));
    const r = await runNnshrink(root, a, b, domain, mid, S);
    if (r.verdict === 'proved') (hi = mid), proved.push(String(mid));
    else lo = mid;
  }
  const wall = (performance.now() - t0) / 1000;
  console.log(`| ${id} | ${outputs} | ${(first.foundMax ?? 0).toExponential(2)} | ${first.provedMax.toPrecision(3)} | ${hi.toPrecision(3)} | ${proved.join(', ') || '-'} | ${wall.toFixed(0)} |`);
}
