/**
 * How much the linear simplifications of issue 27 could take from the CNNs of ../shared/nets/cnn, measured before
 * building them: per network, on the first instance ball of its list,
 * - ReLU nodes whose every element is proved always active (the census): only those could lose the ReLU node as a
 *   whole, since ONNX has no per-channel ReLU; and the channels always active at every position;
 * - BatchNormalization nodes right after a convolution that only they read (foldable into it);
 * - MaxPool output positions whose window has a decided maximum (one input's lower bound at least every other's
 *   upper bound, by CROWN), which could become a plain selection, and channels whose every window is won by the same
 *   tap (only those could be a strided slice);
 * - the fully-connected tail and Conv -> Conv chains (graph-linear-parts.ts).
 * Besides the shared networks: the planted PyTorch-style CNN (src/demo/cnn.ts) on [0, 1], and the trained CNNs
 * bench/cnn-train-prune.ts wrote (bench/out/cnn-train-prune/cnn-*-s*.onnx, not the pruned ones) on [0, 1].
 * Run: node --import tsx bench/graph-linear.ts [censusTimeoutS=30] [benchmarks=all|none|oval21,...]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fcTail, convChains, sameTapChannels } from './graph-linear-parts.ts';
import { pytorchCnn, PRUNABLE_CNN_DEAD } from '../src/demo/cnn.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { size } from '../src/model/graph/shape.ts';
import { join, normalize } from 'node:path';
import { SHARED_NETS, HAVE_SHARED } from '../test/helpers/shared.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { graphPhaseCensus } from '../src/verify/graph/census.ts';
import { graphCrownBounds } from '../src/bounds/graph/crown.ts';
import { poolTaps } from '../src/model/graph/ops/pool-common.ts';
import type { Graph, MaxPoolNode } from '../src/model/graph/types.ts';
import type { Itv } from '../src/bounds/graph/types.ts';
import type { Box } from '../src/model/box.ts';

const timeoutS = Number(process.argv[2] ?? 30);
const only = process.argv[3] && process.argv[3] !== 'all' ? new Set(process.argv[3].split(',')) : null;
const TRAINED = fileURLToPath(new URL('./out/cnn-train-prune', import.meta.url));

/** Each network of a benchmark's instance list with its first property. */
function firstInstances(dir: string): Array<[string, string]> {
  const list = readdirSync(dir).find((f) => f.endsWith('instances.csv'))!;
  const seen = new Set<string>();
  const rows: Array<[string, string]> = [];
  for (const l of readFileSync(join(dir, list), 'utf8').trim().split('\n')) {
    const [m, p] = l.split(',').map((s) => s.trim());
    if (seen.has(m)) continue;
    seen.add(m);
    rows.push([normalize(join(dir, m)), normalize(join(dir, p))]);
  }
  return rows;
}

/** BatchNormalization nodes whose input is a convolution's output read by nothing else. */
function foldableBatchNorms(g: Graph): { bn: number; foldable: number } {
  const producer = new Map(g.nodes.map((n) => [n.output, n]));
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const t of n.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);
  const bns = g.nodes.filter((n) => n.op === 'batchnorm');
  const foldable = bns.filter((n) => producer.get(n.inputs[0])?.op === 'conv' && readers.get(n.inputs[0]) === 1).length;
  return { bn: bns.length, foldable };
}

/** Output positions of a MaxPool whose window has one input proved at least every other one. */
function decidedWindows(g: Graph, n: MaxPoolNode, b: Itv): { positions: number; decided: number } {
  const xs = g.shapes.get(n.inputs[0])!;
  const os = g.shapes.get(n.output)!;
  const [C, H, W] = xs;
  const [rows, cols] = poolTaps(n.attrs, xs, os);
  let decided = 0;
  for (let c = 0; c < C; c++) {
    for (const r of rows) {
      for (const q of cols) {
        const idx = Array.from(r).flatMap((y) => Array.from(q, (x) => (c * H + y) * W + x));
        if (idx.some((a) => idx.every((o) => o === a || b.lo[a] >= b.hi[o]))) decided++;
      }
    }
  }
  return { positions: C * os[1] * os[2], decided };
}

const cube = (g: Graph): Box => ({ lo: new Float64Array(size(g.input.shape)), hi: new Float64Array(size(g.input.shape)).fill(1) });

/** The networks measured: the shared ones on their first ball, the planted and trained CNNs on [0, 1]. */
function networks(): Array<{ name: string; g: Graph; box: Box }> {
  const out: Array<{ name: string; g: Graph; box: Box }> = [];
  const root = join(SHARED_NETS, 'cnn');
  const benches = HAVE_SHARED ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && (!only || only.has(d.name))).map((d) => d.name).sort() : [];
  for (const bench of benches) {
    for (const [model, prop] of firstInstances(join(root, bench))) out.push({ name: `${bench}/${model.split('/').pop()}`, g: readOnnxGraph(model), box: readVnnlib(prop).regions[0].box });
  }
  const planted = parseOnnxGraph(pytorchCnn({ dead: PRUNABLE_CNN_DEAD }), 'planted');
  out.push({ name: 'planted pytorchCnn (demo/cnn.ts)', g: planted, box: cube(planted) });
  if (existsSync(TRAINED)) {
    for (const f of readdirSync(TRAINED).filter((f) => /^cnn-.*-s\d+\.onnx$/.test(f)).sort()) {
      const g = readOnnxGraph(join(TRAINED, f));
      out.push({ name: `trained ${f}`, g, box: cube(g) });
    }
  }
  return out;
}

function fcLine(name: string, g: Graph, census: ReturnType<typeof graphPhaseCensus>, pools: MaxPoolNode[], b: Map<string, Itv> | null): string {
  const fc = fcTail(g, census);
  const fcs = fc.map((l) => `${l.node.split('/').filter(Boolean)[0] ?? l.node} ${l.neurons}x${l.inputs}: ${l.never} never, ${l.constant} constant, ${l.always} always, ${l.dependent} dependent, ${l.merges} merges${l.always && l.always === l.neurons - l.never - l.constant ? ' (all live linear: foldable)' : ''}`).join('; ');
  const cc = convChains(g, census);
  const chains = cc.length ? cc.map((c) => `${c.first} -> ${c.second}: ${c.now} -> ${c.folded}`).join('; ') : 'none';
  let same = 0;
  let chs = 0;
  for (const p of pools) {
    const r = sameTapChannels(g, p, b!.get(p.inputs[0])!);
    same += r.same;
    chs += r.channels;
  }
  return `| ${name} | ${fcs || 'no dense on a 1-D input before a ReLU'} | ${chains} | ${pools.length ? `${same} / ${chs}` : 'no MaxPool'} |`;
}

async function main(): Promise<void> {
  console.log(`census ${timeoutS} s per ball; CROWN for the MaxPool windows\n`);
  console.log('| network | ReLU nodes: all elements always active / all | channels always active at every position / all | elements always active / all | BatchNorm after a conv (foldable) / all | MaxPool positions with a decided window / all |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const second: string[] = [];
  for (const { name, g, box } of networks()) {
    const census = graphPhaseCensus(g, [box], { timeoutMs: timeoutS * 1000, seed: 1 });
    const relu = census.layers.filter((l) => g.nodes.find((n) => n.name === l.node)?.op === 'relu');
    const wholeNode = relu.filter((l) => l.counts.always === l.phases.length).length;
    const chAlways = relu.reduce((s, l) => s + (l.channels?.counts.always ?? 0), 0);
    const chAll = relu.reduce((s, l) => s + (l.channels?.phases.length ?? 0), 0);
    const elAlways = relu.reduce((s, l) => s + l.counts.always, 0);
    const elAll = relu.reduce((s, l) => s + l.phases.length, 0);
    const bn = foldableBatchNorms(g);
    const pools = g.nodes.filter((n): n is MaxPoolNode => n.op === 'maxpool');
    let pos = 0;
    let dec = 0;
    const b = pools.length ? graphCrownBounds(g, box) : null;
    for (const p of pools) {
      const r = decidedWindows(g, p, b!.get(p.inputs[0])!);
      pos += r.positions;
      dec += r.decided;
    }
    console.log(`| ${name} | ${wholeNode} / ${relu.length} | ${chAlways} / ${chAll} | ${elAlways} / ${elAll} | ${bn.foldable} / ${bn.bn} | ${pools.length ? `${dec} / ${pos}` : 'no MaxPool'} |`);
    second.push(fcLine(name, g, census, pools, b));
  }
  console.log('\n| network | fully-connected layers (dense on a 1-D input, before a ReLU): neurons never active / constant / always active (not constant), always-active rows linearly dependent (basis), positive-multiple pairs (merges) | Conv -> Conv with nothing nonlinear between: parameters now -> folded | MaxPool channels whose every window has the same decided winner tap / all |');
  console.log('| --- | --- | --- | --- |');
  for (const l of second) console.log(l);
}

await main();
