/**
 * Issue 30, benchmark 1: NeuroDiff (built here by bench/neurodiff/build.sh: Debian's OpenBLAS, one thread) side by
 * side with `nnshrink equiv` on the pairs NeuroDiff's ACAS Xu experiments compare (each original NNet against the
 * artifact's 16-bit copy), in the normalised units NeuroDiff works in, on NeuroDiff's own property boxes (read from
 * its code by nd_probe, so both tools get the same float32 box). Runs alternate on the same machine (which tool goes
 * first alternates too); each run's CPU time is measured (GNU time), the ratios use it. NeuroDiff's question is
 * |f_t - g_t| < eps for the property's ONE target output t; by
 * default nnshrink gets exactly that question (both files cut to output t); `--outputs all` asks nnshrink the
 * harder L-infinity question over all 5 outputs instead.
 * Before the runs, per network: NeuroDiff's box against the VNN-COMP box, and both tools' outputs at 20 points.
 * Run: node --import tsx bench/neurodiff.ts [--nd /work/neurodiff-src] [--p7 1_9,..] [--p7-limit 300]
 *   [--p14 1_1,..] [--props 3,4,1] [--p14-limit 60] [--eps 0.05,0.01] [--outputs target|all] [--snapshot]
 *   [--log F.jsonl]
 *   or --summarize F.jsonl (the tables of a log). The smallest eps per network: bench/neurodiff/min-eps.ts.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { createHash } from 'node:crypto';
import { preparePair, single, type Pair } from './neurodiff/nets.ts';
import { domainArg, ndProbe } from './neurodiff/probe.ts';
import { checkSame } from './neurodiff/check.ts';
import { runNeuroDiff, runNnshrink } from './neurodiff/run.ts';
import { countTable, pairTable, type Row } from './neurodiff/summary.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { readNNet } from '../src/formats/nnet.ts';
import { sharedPath } from '../test/helpers/shared.ts';

const { values: o } = parseArgs({
  options: {
    nd: { type: 'string', default: '/work/neurodiff-src' },
    tmp: { type: 'string', default: '/tmp/neurodiff' },
    log: { type: 'string' },
    p7: { type: 'string', default: '1_9' },
    'p7-limit': { type: 'string', default: '300' },
    p14: { type: 'string', default: '' },
    props: { type: 'string', default: '3,4,1' },
    'p14-limit': { type: 'string', default: '60' },
    eps: { type: 'string', default: '0.05,0.01' },
    outputs: { type: 'string', default: 'target' },
    summarize: { type: 'string' },
    snapshot: { type: 'boolean', default: false },
  },
});
function snapshot(from: string, to: string): string {
  rmSync(to, { recursive: true, force: true });
  for (const f of ['src', 'bin', 'package.json', 'tsconfig.json']) cpSync(join(from, f), join(to, f), { recursive: true });
  symlinkSync(join(from, 'node_modules'), join(to, 'node_modules'));
  return to;
}
const readLog = (f: string): Row[] => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
if (o.summarize) {
  const rows = readLog(o.summarize);
  console.log(pairTable(rows) + '\n\n' + countTable(rows));
  process.exit(0);
}

const root = resolve(import.meta.dirname, '..');
const ndDir = join(o.nd!, 'DiffNN-Code');
const probe = join(o.nd!, 'probe', 'nd_probe');
if (!existsSync(join(ndDir, 'delta_network_test')) || !existsSync(probe)) throw new Error(`build NeuroDiff first: bash bench/neurodiff/build.sh ${o.nd}`);
const tmp = o.tmp!;
const netsDir = join(tmp, 'nets');
mkdirSync(netsDir, { recursive: true });
const log = o.log ?? join(tmp, `runs-${Date.now()}.jsonl`);
const epsList = o.eps!.split(',').map(Number);
// Reluplex's properties 3 and 4 are not stated for 1_7, 1_8, 1_9 (NeuroDiff's and VNN-COMP's 42 networks)
const applies = (id: string, p: number): boolean => !((p === 3 || p === 4) && ['1_7', '1_8', '1_9'].includes(id));
const jobs: { id: string; property: number; eps: number; limitS: number }[] = [];
// the short questions first (in --props order), property 7 last: a run cut short still has them
for (const p of o.p14 ? o.props!.split(',').map(Number) : [])
  for (const eps of epsList) for (const id of o.p14!.split(',')) if (applies(id, p)) jobs.push({ id, property: p, eps, limitS: Number(o['p14-limit']) });
for (const eps of epsList) for (const id of o.p7 ? o.p7.split(',') : []) jobs.push({ id, property: 7, eps, limitS: Number(o['p7-limit']) });

const git = (...a: string[]): string => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
const dirty = git('diff', 'HEAD', '--', 'src', 'bin');
console.log(`nnshrink ${git('rev-parse', 'HEAD')}; src/ and bin/ differ from it in ${git('status', '--short', 'src', 'bin').split('\n').filter(Boolean).length} files (diff sha1 ${createHash('sha1').update(dirty).digest('hex').slice(0, 12)})`);
// --snapshot: nnshrink runs from a copy of src/ and bin/ taken now, so that edits other work makes in the tree
// during a long run neither change what is measured nor catch a file half written
const nnRoot = o.snapshot ? snapshot(root, join(tmp, 'nnshrink-snap')) : root;
if (o.snapshot) console.log(`nnshrink runs from the snapshot ${nnRoot}`);
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}; log ${log}`);
console.log(`${jobs.length} pairs, nnshrink asked about ${o.outputs === 'all' ? 'all 5 outputs' : "NeuroDiff's target output only"}`);

// per (network, property): the pair, NeuroDiff's box and target, and the nnshrink files for the question asked
const pairs = new Map<string, Pair>();
const setups = new Map<string, { domain: string; a: string; b: string }>();
const shown = new Set<number>();
const vnnBox = (p: number): { lo: ArrayLike<number>; hi: ArrayLike<number> } =>
  p === 7 ? readNNet(sharedPath('acasxu', 'nnet', 'ACASXU_run2a_1_1_batch_2000.nnet'), 'normalized').domain! : readVnnlib(sharedPath('acasxu', 'vnnlib', `prop_${p}.vnnlib`)).regions[0].box;
for (const j of jobs) {
  const key = `${j.id}|${j.property}`;
  if (setups.has(key)) continue;
  const pair = pairs.get(j.id) ?? preparePair(j.id, ndDir, netsDir);
  if (!pairs.has(j.id)) {
    pairs.set(j.id, pair);
    const c = checkSame(nnRoot, probe, j.property, pair, 20, 7, tmp);
    console.log(`same networks ${j.id}: ${c.points} points, max |dev| f ${c.maxDevF.toExponential(1)}, g ${c.maxDevG.toExponential(1)}, f-g ${c.maxDevDiff.toExponential(1)} (largest |f-g| seen ${c.maxDiffSeen.toExponential(2)})`);
    if (c.maxDevDiff > 1e-5) throw new Error(`${j.id}: the two tools do not read the same networks`);
  }
  const nd = ndProbe(probe, j.property, pair.ndOrig, pair.ndCopy);
  const v = vnnBox(j.property);
  const dev = Math.max(...nd.lo.map((x, i) => Math.max(Math.abs(x - v.lo[i]), Math.abs(nd.hi[i] - v.hi[i]))));
  if (!shown.has(j.property)) {
    shown.add(j.property);
    console.log(`property ${j.property}: NeuroDiff's box ${domainArg(nd.lo, nd.hi)}, target output ${nd.target}; max |dev| from ${j.property === 7 ? "the NNet's domain" : `VNN-COMP prop_${j.property}`} ${dev.toExponential(2)}`);
  }
  const files = o.outputs === 'all' ? { a: pair.orig, b: pair.copy } : { a: single(pair.orig, nd.target, netsDir, j.id), b: single(pair.copy, nd.target, netsDir, `${j.id}_16bit`) };
  setups.set(key, { domain: domainArg(nd.lo, nd.hi), ...files });
}

const rows: Row[] = [];
for (const [k, j] of jobs.entries()) {
  const pair = pairs.get(j.id)!;
  const s = setups.get(`${j.id}|${j.property}`)!;
  const nd = () => runNeuroDiff(ndDir, j.property, pair.ndOrig, pair.ndCopy, j.eps, j.limitS);
  const nn = () => runNnshrink(nnRoot, s.a, s.b, s.domain, j.eps, j.limitS);
  const first = k % 2 === 0 ? 'neurodiff' : 'nnshrink';
  const [a, b] = first === 'neurodiff' ? [await nd(), await nn()] : [await nn(), await nd()];
  const row: Row = { ...j, outputs: o.outputs!, first, load1: loadavg()[0], nd: first === 'neurodiff' ? a : b, nn: first === 'neurodiff' ? b : a };
  rows.push(row);
  appendFileSync(log, JSON.stringify(row) + '\n');
  console.log(`[${k + 1}/${jobs.length}] ${j.id} p${j.property} eps ${j.eps}: NeuroDiff ${row.nd.verdict} cpu ${row.nd.cpuS} s (wall ${row.nd.wallS.toFixed(2)}), nnshrink ${row.nn.verdict} cpu ${row.nn.cpuS} s (wall ${row.nn.wallS.toFixed(2)}, bound ${row.nn.provedMax ?? '-'}); load ${row.load1?.toFixed(1)}`);
}
console.log(`\nload at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n\n${pairTable(rows)}\n\n${countTable(rows)}`);
