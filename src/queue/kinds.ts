/**
 * The job kinds a queue worker runs: nnshrink's own job exports, by a fixed name each. A job names its kind, never a
 * module: no code travels. Each kind checks its job on the worker (validate.ts) before it runs, and says what a job
 * that failed on every attempt answers: an open question (unknown, keep), never a proof; a kind without that answer
 * ends its run with an error.
 */
import { readFileSync } from 'node:fs';
import { fail as fail1 } from '../errors.ts';
import { basename } from 'node:path';
import type { SliceJob } from '../slice/jobs.ts';
import type { Cand, TreeJob, TreeResult } from '../verify/phase/types.ts';
import type { NeuronTaskResult } from '../verify/phase/neuron-task.ts';
import type { InstanceJob } from '../verify/property/instance.ts';
import type { PropertyResult } from '../verify/property/types.ts';
import { boxes, box, int, list, ms, network, networkBounds, neuron, num, obj, oneOf, optional, tolerance, type Obj } from './validate.ts';
import { cachedFile } from './files.ts';
import { sampleKind } from './kinds-prune.ts';
import { SEARCH_KINDS } from './kinds-search.ts';

export interface JobKind {
  name: string;
  /** the handler: a named export of one of nnshrink's modules (by source URL, as the pool names it) */
  module: string;
  exportName: string;
  /** coordinator: the job as it travels (default: itself) */
  toWire?: (job: never) => unknown;
  /** worker: the job checked (and its files put in the worker's cache) as its handler takes it */
  accept: (job: unknown, cacheDir: string) => unknown;
  /** what a job that failed on every attempt answers (open, never proved); none: the run fails */
  failed?: (job: never, reason: string) => unknown;
}

const here = (path: string): string => new URL(path, import.meta.url).href;

const sliceKind: JobKind = {
  name: 'slice-prune',
  module: here('../slice/jobs.ts'),
  exportName: 'pruneSliceJob',
  accept(v) {
    const o = obj(v, 'slice job');
    const f = network(o.f, 'slice job: f');
    const job: SliceJob = {
      f,
      domain: boxes(o.domain, f.inputSize, 'slice job: domain box'),
      tolerance: tolerance(o.tolerance, 'slice job: tolerance'),
      bounds: oneOf(o.bounds, 'slice job: bounds', ['crown', 'symbolic'] as const),
      queryTimeoutMs: ms(o.queryTimeoutMs, 'slice job: queryTimeoutMs'),
      toleranceBudgetMs: optional(o.toleranceBudgetMs, (x) => ms(x, 'slice job: toleranceBudgetMs')),
      finalTimeoutMs: ms(o.finalTimeoutMs, 'slice job: finalTimeoutMs'),
      finalSamples: int(o.finalSamples, 'slice job: finalSamples', 0, 1e7),
      seed: int(o.seed, 'slice job: seed', -(2 ** 31), 2 ** 32),
      finishTasks: optional(o.finishTasks, (x) => int(x, 'slice job: finishTasks', 0, 1e6)),
      maxBoxes: optional(o.maxBoxes, (x) => int(x, 'slice job: maxBoxes', 1, 1e9)),
    };
    return job;
  },
};

function cands(v: unknown, net: TreeJob['net'], where: string): Cand[] {
  return list(v, where).map((c0, i) => {
    const c = obj(c0, `${where} ${i}`);
    neuron(net, c.layer, c.index, `${where} ${i}`);
    if (c.sign !== 1 && c.sign !== -1) fail1(`${where} ${i}: sign must be 1 or -1`);
    if (c.id !== i) fail1(`${where} ${i}: id ${String(c.id).slice(0, 20)} (ids are the list's positions)`);
    return c as unknown as Cand;
  });
}

const censusTreeKind: JobKind = {
  name: 'census-tree',
  module: here('../verify/phase/tree.ts'),
  exportName: 'censusTreeJob',
  accept(v) {
    const o = obj(v, 'census tree job');
    const net = network(o.net, 'census tree job: net');
    const n = net.inputSize;
    boxes(o.boxes, n, 'census tree job: box');
    cands(o.cands, net, 'census tree job: candidate');
    ms(o.timeoutMs, 'census tree job: timeoutMs');
    int(o.maxBoxes, 'census tree job: maxBoxes', 0, 1e9);
    optional(o.maxOpen, (x) => int(x, 'census tree job: maxOpen', 1, 1e9));
    num(o.memoryBytes, 'census tree job: memoryBytes', 0, 2 ** 34);
    box(o.hull, n, 'census tree job: hull');
    oneOf(o.splitRule, 'census tree job: splitRule', ['smear', 'widest'] as const);
    flags(o, ['backSubstitute', 'claims'], ['tightenRoots'], 'census tree job');
    optional(o.bounds, (x) => oneOf(x, 'census tree job: bounds', ['crown', 'symbolic'] as const));
    return o as unknown as TreeJob;
  },
  // nothing proved: every box stays open for every candidate (the finishing tasks, or unknown)
  failed: (job: TreeJob): TreeResult => ({ boxes: 0, timedOut: true, witnesses: [], leaves: job.boxes.map((b) => ({ box: b, open: job.cands.map((c) => c.id) })) }),
};

const censusTaskKind: JobKind = {
  name: 'census-task',
  module: here('../verify/phase/neuron-task.ts'),
  exportName: 'neuronTaskJob',
  accept(v) {
    const o = obj(v, 'census task');
    const net = network(o.net, 'census task: net');
    const bs = boxes(o.boxes, net.inputSize, 'census task: box');
    neuron(net, o.layer, o.index, 'census task');
    if (o.sign !== 1 && o.sign !== -1) fail1('census task: sign must be 1 or -1');
    ms(o.timeMs, 'census task: timeMs');
    optional(o.bounds, (x) => {
      const per = list(x, 'census task: bounds', bs.length);
      if (per.length !== bs.length) fail1(`census task: ${per.length} bounds for ${bs.length} boxes`);
      per.forEach((b, i) => networkBounds(b, net, `census task: bounds ${i + 1}`));
    });
    // the boxes left for MILP: none at all is a valid list
    optional(o.milpBoxes, (x) => list(x, 'census task: MILP boxes').forEach((b, i) => box(b, net.inputSize, `census task: MILP box ${i + 1}`)));
    optional(o.splitScale, (x) => box(x, net.inputSize, 'census task: splitScale'));
    optional(o.splitShare, (x) => num(x, 'census task: splitShare', 0, 1));
    optional(o.maxBoxes, (x) => int(x, 'census task: maxBoxes', 0, 1e9));
    return o;
  },
  failed: (): NeuronTaskResult => ({ status: 'unknown' }),
};

/** An instance travels as its two files' bytes (the worker may be on a machine without them) and their names. */
interface WireInstance {
  modelName: string;
  model: Uint8Array;
  propertyName: string;
  property: Uint8Array;
  timeoutMs: number;
  view?: 'raw' | 'normalized';
}

const instanceKind: JobKind = {
  name: 'verify-instance',
  module: here('../verify/property/instance.ts'),
  exportName: 'decideInstance',
  toWire: (job: InstanceJob): WireInstance => ({
    modelName: basename(job.model),
    model: new Uint8Array(readFileSync(job.model)),
    propertyName: basename(job.property),
    property: new Uint8Array(readFileSync(job.property)),
    timeoutMs: job.timeoutMs,
    ...(job.view ? { view: job.view } : {}),
  }),
  // the files go to the worker's cache under their hashes, then the CLI's own readers read them there
  accept(v, cacheDir) {
    const o = obj(v, 'instance job');
    const bytes = (x: unknown, what: string): Uint8Array => {
      if (!(x instanceof Uint8Array)) fail1(`instance job: ${what} must be bytes`);
      return x;
    };
    const job: InstanceJob = {
      model: cachedFile(cacheDir, o.modelName, bytes(o.model, 'model'), 'instance job: modelName'),
      property: cachedFile(cacheDir, o.propertyName, bytes(o.property, 'property'), 'instance job: propertyName'),
      timeoutMs: ms(o.timeoutMs, 'instance job: timeoutMs'),
      ...(o.view !== undefined ? { view: oneOf(o.view, 'instance job: view', ['raw', 'normalized'] as const) } : {}),
    };
    return job;
  },
  failed: (_job: InstanceJob, reason: string): PropertyResult => ({ result: 'unknown', boxes: 0, timeMs: 0, reason: `failed on every attempt on the workers: ${reason}` }),
};

function flags(o: Obj, required: string[], opt: string[], where: string): void {
  for (const k of required) if (typeof o[k] !== 'boolean') fail1(`${where}: ${k} must be true or false`);
  for (const k of opt) if (o[k] !== undefined && typeof o[k] !== 'boolean') fail1(`${where}: ${k} must be true or false`);
}

export const KINDS: readonly JobKind[] = [sliceKind, censusTreeKind, censusTaskKind, instanceKind, sampleKind, ...SEARCH_KINDS];

const stem = (url: string): string => url.replace(/\.(ts|js)$/, '');

/** The kind of a pool job (module and export), or undefined when the queue does not run it. */
export function kindOf(sourceUrl: string, exportName: string): JobKind | undefined {
  return KINDS.find((k) => stem(k.module) === stem(sourceUrl) && k.exportName === exportName);
}

export const kindNamed = (name: string): JobKind | undefined => KINDS.find((k) => k.name === name);
