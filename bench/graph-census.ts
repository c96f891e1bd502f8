/**
 * The phase census on each VNN-COMP CNN instance's input ball (../shared/nets/cnn: oval21, cifar10_resnet,
 * marabou-cifar10, verivital): ReLU inputs and channels proved never / always active, witnessed both, unknown, and
 * the time per ball (the census alone, not loading). The benchmark's networks take turns (each one's first instance
 * in the list, then each one's second ...); one process per instance.
 *   node --import tsx bench/graph-census.ts [--per N (default 2)] [--timeout S (default 60)] [--benchmark NAME]
 */
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { readInstances, type InstanceRow } from '../src/formats/instances.ts';
import type { Box } from '../src/model/box.ts';
import { graphPhaseCensus, type Counts } from '../src/verify/graph/census.ts';
import { HAVE_SHARED, SHARED_NETS } from '../test/helpers/shared.ts';

const BENCHMARKS = ['oval21', 'cifar10_resnet', 'marabou-cifar10', 'verivital'];

interface Row {
  relus: number;
  totals: Counts;
  channels: Counts;
  seconds: number;
  reason?: string;
}

/** The distinct input boxes of a property (its regions may repeat one box with several output conditions). */
function boxesOf(path: string): Box[] {
  const seen = new Map<string, Box>();
  for (const r of readVnnlib(path).regions) seen.set(`${r.box.lo.join(',')}|${r.box.hi.join(',')}`, r.box);
  return [...seen.values()];
}

function runOne(model: string, property: string, timeoutS: number): Row {
  const g = readOnnxGraph(model);
  const boxes = boxesOf(property);
  const c = graphPhaseCensus(g, boxes, { timeoutMs: timeoutS * 1000, seed: 1 });
  const relus = c.layers.reduce((s, l) => s + l.phases.length, 0);
  return { relus, totals: c.totals, channels: c.channelTotals, seconds: c.timeMs / 1000, reason: c.reason };
}

function instanceList(bench: string): InstanceRow[] {
  const dir = join(SHARED_NETS, 'cnn', bench);
  const csv = readdirSync(dir).find((f) => f.endsWith('_instances.csv'));
  if (!csv) throw new Error(`no instance list in ${dir}`);
  return readInstances(join(dir, csv), dir, dir);
}

/** N rows taking the networks in turn (in the list's order): each network's first instance, then its second... */
function spread(rows: readonly InstanceRow[], n: number): InstanceRow[] {
  const byModel = new Map<string, InstanceRow[]>();
  for (const r of rows) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r]);
  const out: InstanceRow[] = [];
  for (let k = 0; out.length < Math.min(n, rows.length); k++) for (const list of byModel.values()) if (k < list.length && out.length < n) out.push(list[k]);
  return out;
}

const cnt = (c: Counts): string => `${c.never} | ${c.always} | ${c.both} | ${c.unknown}`;

function main(): void {
  const { values } = parseArgs({ options: { per: { type: 'string', default: '2' }, timeout: { type: 'string', default: '60' }, benchmark: { type: 'string' }, one: { type: 'string', multiple: true } } });
  if (values.one) {
    const [model, property] = values.one;
    process.stdout.write(JSON.stringify(runOne(model, property, Number(values.timeout))));
    return;
  }
  if (!HAVE_SHARED || !existsSync(join(SHARED_NETS, 'cnn'))) {
    console.log(`../shared/nets/cnn not found at ${join(SHARED_NETS, 'cnn')}: nothing to measure (skipped)`);
    return;
  }
  const per = Number(values.per);
  const self = fileURLToPath(import.meta.url);
  console.log(`census per instance ball, time limit ${values.timeout} s, ${per} instance(s) per benchmark`);
  console.log('| benchmark | network | property | ReLUs | never | always | both | unknown | ch. never | ch. always | ch. both | ch. unknown | time (s) | note |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const bench of BENCHMARKS.filter((b) => !values.benchmark || b === values.benchmark)) {
    for (const row of spread(instanceList(bench), per)) {
      const args = ['--import', 'tsx', self, '--timeout', String(values.timeout), '--one', row.model, '--one', row.property];
      const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
      const r = JSON.parse(out) as Row;
      console.log(`| ${bench} | ${basename(row.model, '.onnx')} | ${basename(row.property, '.vnnlib')} | ${r.relus} | ${cnt(r.totals)} | ${cnt(r.channels)} | ${r.seconds.toFixed(1)} | ${r.reason ?? ''} |`);
    }
  }
}

main();
