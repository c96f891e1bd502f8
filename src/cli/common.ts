/** Shared pieces of the commands: loading the model or the default, resolving the domain, printing. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fail } from '../errors.ts';
import { loadModel } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import { defaultModel } from '../demo/default-network.ts';
import { containsPoint, parseBoxSpec, validateBox, type Box } from '../model/box.ts';
import { readVnnlib } from '../formats/vnnlib.ts';
import type { Network } from '../model/network.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import { crownBounds } from '../bounds/backward.ts';
import { isFamilyDirectory } from './family-eval.ts';
import { defaultWorkers, WorkerPool } from '../pool/pool.ts';
import { manyInputs } from '../verify/split.ts';

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run: (values: Record<string, string | boolean | undefined>, positionals: string[]) => Promise<number> | number;
}

export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parse(spec: CommandSpec, argv: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: joinNegativeValues(spec, argv), options: { ...COMMON_OPTIONS, ...spec.options }, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    fail(`${spec.name}: ${(e as Error).message.split('\n')[0]} (see 'nnshrink ${spec.name} --help')`);
  }
}

/**
 * `--domain -1,-1:1,1` and `--timeout -3` as the user means them: a value option followed by a number that starts
 * with '-' takes it as its value (parseArgs would call it an ambiguous option), as if written `--domain=-1,-1:1,1`.
 */
function joinNegativeValues(spec: CommandSpec, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : undefined;
    const opt = name !== undefined ? (spec.options as Record<string, { type: string }>)[name] : undefined;
    if (opt?.type === 'string' && i + 1 < argv.length && /^-\.?\d/.test(argv[i + 1])) {
      out.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** MODEL positional or --default. */
export function modelArg(values: Record<string, unknown>, positionals: string[], cmd: string): LoadedModel {
  if (values.default) {
    if (positionals.length) fail(`${cmd}: give either MODEL or --default, not both`);
    return defaultModel();
  }
  if (!positionals.length) fail(`${cmd}: missing MODEL (a .nnet, .onnx or .json file, or --default)`);
  if (isFamilyDirectory(positionals[0])) fail(`${positionals[0]}: a slice family (directory), not one network: 'nnshrink eval', 'info' and 'verify' read it`);
  return loadModel(positionals[0], { view: values.view === 'normalized' ? 'normalized' : 'raw' });
}

/** The domain: --domain, or --vnnlib (its input boxes), or the model's own. */
export function resolveDomain(model: LoadedModel, values: Record<string, unknown>): Box[] {
  const n = model.network.inputSize;
  if (values.domain && values.vnnlib) fail('give either --domain or --vnnlib, not both');
  let boxes: Box[] | undefined;
  if (typeof values.domain === 'string') boxes = [parseBoxSpec(values.domain, n)];
  if (typeof values.vnnlib === 'string') {
    const p = readVnnlib(values.vnnlib);
    if (p.nInputs !== n) fail(`${values.vnnlib}: the property has ${p.nInputs} inputs but the network has ${n}`);
    p.regions.forEach((r) => validateBox(r.box, n, values.vnnlib as string));
    boxes = p.regions.map((r) => r.box);
  }
  if (boxes) {
    // a box outside the file's own domain is allowed (the function is defined everywhere) but is often a units
    // mistake: VNN-COMP's ACAS Xu properties are in the NNet files' normalised units
    const own = model.domain;
    if (own && !values.json && boxes.some((b) => !containsPoint(own, b.lo) || !containsPoint(own, b.hi))) {
      process.stderr.write(
        `nnshrink: warning: the domain is not inside ${model.path}'s own domain${model.format === 'nnet' && model.view !== 'normalized' ? ' (read in raw units; --view normalized reads the NNet file in its normalised units, as VNN-COMP properties are)' : ''}\n`,
      );
    }
    return boxes;
  }
  if (model.domain) return [model.domain];
  fail(`${model.path}: the model states no input domain; give one with --domain lo1,..:hi1,.. or --vnnlib FILE`);
}

/**
 * Bounds used by the verifier: CROWN (forward symbolic, then back-substitution for the unstable neurons). Measured
 * on ACAS Xu, forward symbolic alone is ~50x looser on the outputs, which costs far more boxes than it saves.
 */
export function boundsFor(_net: Network): (net: Network, box: Box) => NetworkBounds {
  return crownBounds;
}

/**
 * Runs a search whose input-splitting trees split their boxes on --jobs worker threads (default: the cores; none
 * with many inputs, where the searches split ReLUs in this thread), and ends the threads after. --jobs is read
 * first, so a bad value fails before any thread starts.
 */
export async function withTreePool<R>(net: Network, values: Record<string, unknown>, run: (pool: WorkerPool) => Promise<R>): Promise<R> {
  const jobs = numberOpt(values, 'jobs', defaultWorkers(), 1);
  const pool = new WorkerPool(manyInputs(net.inputSize) ? 1 : jobs);
  try {
    return await run(pool);
  } finally {
    await pool.close();
  }
}

export function printJson(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, (_k, v) => (v instanceof Float64Array || v instanceof Uint8Array || v instanceof Int32Array ? Array.from(v) : v), 2) + '\n');
}

export function numberOpt(values: Record<string, unknown>, name: string, def: number, min = 0): number {
  const v = values[name];
  if (v === undefined) return def;
  const x = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(x) || x < min) fail(`--${name}: '${String(v)}' is not a number >= ${min}`);
  return x;
}

export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(digits - 1) : Number(x.toPrecision(digits)).toString();
}

/** "1 box", "2 boxes": counts in messages read as English. */
export function nBoxes(n: number): string {
  return `${n} ${n === 1 ? 'box' : 'boxes'}`;
}

/** What NNet output did with linear hidden neurons (it has no way to state them); `pairs[k]`: layer k's. */
export function reluPairsNote(pairs: number[][]): string {
  return `NNet has no linear hidden neurons: ${pairs.reduce((t, l) => t + l.length, 0)} stored as ReLU pairs, relu(z) - relu(-z)`;
}
