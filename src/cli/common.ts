/** Shared pieces of the commands: loading the model or the default, resolving the domain, printing. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { codeOfExit, fail, NnsError } from '../errors.ts';
import { FinalCheckFailed } from '../simplify/certify.ts';
// fmt lives with the other message helpers (errors.ts); the commands take it from here with the rest
export { fmt } from '../errors.ts';
import { loadAnyModel, loadModel, type AnyModel } from '../formats/load.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import { defaultModel } from '../demo/default-network.ts';
import { containsPoint, parseBoxSpec, validateBox, type Box } from '../model/box.ts';
import { readVnnlib } from '../formats/vnnlib.ts';
import { outputSize, type Network } from '../model/network.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import { crownBounds } from '../bounds/backward.ts';
import { isFamilyDirectory } from '../slice/family.ts';
import { defaultWorkers, withPool, type WorkerPool } from '../pool/pool.ts';
import { manyInputs } from '../verify/search/split.ts';
import { didYouMean } from './suggest.ts';

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** the most positional arguments the command takes (given the options); an extra one is refused */
  maxPositionals?: number | ((values: Record<string, string | boolean | undefined>) => number);
  /** its exit codes, one line for --help (docs/exit-codes.md has them all) */
  exits?: string;
  run: (values: Record<string, string | boolean | undefined>, positionals: string[]) => Promise<number> | number;
}

/** The exit codes of every command (docs/exit-codes.md). */
export const EXIT = {
  /** done; the claim holds (proved; verify: unsat) */
  ok: 0,
  /** refuted: a re-checked counterexample, or a sample contradicting a claim */
  refuted: 1,
  /** bad input: usage, files, certificates */
  badInput: 2,
  /** unknown: not proved within the limits, timeout */
  unknown: 3,
  /** internal error: a bug in nnshrink */
  internal: 4,
} as const;

/** An outcome that ends the command with its own exit code and one line (not proved: 3, refuted: 1, a bug: 4). */
export class ExitError extends NnsError {
  constructor(message: string, exit: number) {
    super(message, { code: codeOfExit(exit) });
  }
}

/** The exit code of a verdict: proved 0, refuted 1, unknown 3. */
export function verdictExit(status: 'proved' | 'refuted' | 'unknown'): number {
  return status === 'proved' ? EXIT.ok : status === 'refuted' ? EXIT.refuted : EXIT.unknown;
}

export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** argv into options and positionals, strictly: unknown, repeated and extra arguments are refused in one line. */
export function parse(spec: CommandSpec, argv: string[]): { values: Values; positionals: string[] } {
  const options = { ...COMMON_OPTIONS, ...(Object.hasOwn(QUEUE_MODES, spec.name) ? QUEUE_OPTIONS : {}), ...spec.options };
  const args = joinNegativeValues(options, argv);
  let r;
  try {
    r = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    const unknown = (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOption(options, args) : undefined;
    if (unknown) fail(`${spec.name}: unknown option '${unknown}'${didYouMean(unknown.replace(/^--?/, ''), Object.keys(options), '--')} (see 'nnshrink ${spec.name} --help')`);
    fail(`${spec.name}: ${(e as Error).message.split('\n')[0]} (see 'nnshrink ${spec.name} --help')`);
  }
  const values = r.values as Values;
  const seen = new Set<string>();
  for (const t of r.tokens) {
    if (t.kind !== 'option') continue;
    // a second value would silently replace the first: say which option, and let the user pick
    if (seen.has(t.name)) fail(`${spec.name}: ${t.rawName} is given more than once`);
    seen.add(t.name);
  }
  if (values.help) return { values, positionals: r.positionals };
  if (Object.hasOwn(QUEUE_MODES, spec.name) && (values.redis !== undefined || values.resume !== undefined)) queueOptionsFit(spec.name, values);
  // a bad --jobs fails at once, whether or not this run starts threads
  if (values.jobs !== undefined) intOpt(values, 'jobs', 1, 1);
  const max = typeof spec.maxPositionals === 'function' ? spec.maxPositionals(values) : spec.maxPositionals;
  if (max !== undefined && r.positionals.length > max) {
    fail(`${spec.name}: unexpected argument '${r.positionals[max]}' (${spec.name} takes ${max === 0 ? 'no' : `at most ${max}`} positional argument${max === 1 ? '' : 's'} here; see 'nnshrink ${spec.name} --help')`);
  }
  return { values, positionals: r.positionals };
}

/** --redis URL and --resume RUN_ID (the job queue, docs/distributed.md), on the commands with independent jobs */
export const QUEUE_OPTIONS = { redis: { type: 'string' }, resume: { type: 'string' } } as const;

/** The commands that take QUEUE_OPTIONS, and the mode each needs for them (none: any). */
const QUEUE_MODES: Record<string, { option?: string; text: string }> = {
  slice: { text: '' },
  prune: { text: '' },
  equiv: { option: 'method', text: '--method product' },
  bounds: { option: 'census', text: '--census' },
  verify: { option: 'instances', text: '--instances LIST.csv' },
};

function queueOptionsFit(name: string, values: Values): void {
  const mode = QUEUE_MODES[name];
  if (mode.option && values[mode.option] === undefined) fail(`${name}: --redis and --resume go with ${mode.text} (its jobs are what the queue runs)`);
  if (values.redis === undefined) fail(`${name}: --resume RUN_ID goes with --redis URL (the run's results are there)`);
  if (values.jobs !== undefined) fail(`${name}: --jobs is for this machine's threads; with --redis the workers choose theirs (nnshrink worker --concurrency N)`);
}

/** The first option in `args` that the command does not have, as written (the strict parse names it in prose only). */
function unknownOption(options: NonNullable<ParseArgsConfig['options']>, args: string[]): string | undefined {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const shorts = new Set(Object.values(options).flatMap((o) => (o.short ? [o.short] : [])));
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (t.rawName.startsWith('--') ? !Object.hasOwn(options, t.name) : !shorts.has(t.name)) return t.rawName;
  }
  return undefined;
}

/**
 * `--domain -1,-1:1,1`, `--domain -inf,..` and `--timeout -3` as the user means them: after an option that takes a
 * value, an argument that starts with a single '-' and is not a known short option is that value (parseArgs would
 * call it an ambiguous option), as if written `--domain=-1,-1:1,1`; what the value means is for its reader to say.
 */
function joinNegativeValues(options: NonNullable<ParseArgsConfig['options']>, argv: string[]): string[] {
  const shorts = new Map(Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : /^-[^-]$/.test(a) ? shorts.get(a.slice(1)) : undefined;
    const next = argv[i + 1];
    const isValue = next !== undefined && next.startsWith('-') && !next.startsWith('--') && !(next.length === 2 && shorts.has(next[1]));
    if (name !== undefined && options[name]?.type === 'string' && isValue) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
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
  return loadModel(positionals[0], { view: viewOpt(values) });
}

/** MODEL positional or --default, as a chain (NNet, JSON, a chain ONNX: the fast path) or a graph (a CNN's ONNX). */
export function anyModelArg(values: Record<string, unknown>, positionals: string[], cmd: string): AnyModel {
  if (values.default || !positionals.length || isFamilyDirectory(positionals[0])) return { kind: 'chain', model: modelArg(values, positionals, cmd) };
  return loadAnyModel(positionals[0], { view: viewOpt(values) });
}

/**
 * The domain of a graph: --domain (a box over the flattened input, row-major over the input's shape, e.g. C x H x W
 * values) or --vnnlib (its input boxes; VNN-COMP's image properties name X_0.. in that order). A graph file states
 * no domain of its own.
 */
export function resolveGraphDomain(g: Graph, path: string, values: Record<string, unknown>): Box[] {
  const n = size(g.input.shape);
  const shape = `[${g.input.shape.join(', ')}]`;
  if (values.domain && values.vnnlib) fail('give either --domain or --vnnlib, not both');
  if (typeof values.domain === 'string') {
    try {
      return [parseBoxSpec(values.domain, n)];
    } catch (e) {
      if (e instanceof NnsError) fail(`${e.message} (${path} takes ${n} inputs: its input ${shape} flattened row-major)`);
      throw e;
    }
  }
  if (typeof values.vnnlib === 'string') {
    const p = readVnnlib(values.vnnlib);
    if (p.nInputs !== n) fail(`${values.vnnlib}: the property has ${p.nInputs} inputs but the network has ${n} (its input ${shape})`);
    const nOut = size(g.output.shape);
    if (p.nOutputs > nOut) fail(`${values.vnnlib}: the property has ${p.nOutputs} outputs but the network has ${nOut}`);
    p.regions.forEach((r) => validateBox(r.box, n, values.vnnlib as string));
    return p.regions.map((r) => r.box);
  }
  fail(`${path}: the model states no input domain; give one with --domain lo1,..:hi1,.. (${n} values each: its input ${shape} flattened) or --vnnlib FILE`);
}

/** The domain: --domain, or --vnnlib (its input boxes), or the model's own. */
export function resolveDomain(model: LoadedModel, values: Record<string, unknown>): Box[] {
  const n = model.network.inputSize;
  if (values.domain && values.vnnlib) fail('give either --domain or --vnnlib, not both');
  let boxes: Box[] | undefined;
  if (typeof values.domain === 'string') boxes = [parseBoxSpec(values.domain, n)];
  if (typeof values.vnnlib === 'string') {
    const p = readVnnlib(values.vnnlib);
    // only its input boxes are used here; but an output the network does not have says it is another network's
    if (p.nInputs !== n) fail(`${values.vnnlib}: the property has ${p.nInputs} inputs but the network has ${n}`);
    const nOut = outputSize(model.network);
    if (p.nOutputs > nOut) fail(`${values.vnnlib}: the property has ${p.nOutputs} outputs but the network has ${nOut}`);
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
  const jobs = jobsOpt(values);
  return withPool(manyInputs(net.inputSize) ? 1 : jobs, run);
}

export function printJson(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, (_k, v) => (v instanceof Float64Array || v instanceof Uint8Array || v instanceof Int32Array ? Array.from(v) : v), 2) + '\n');
}

/** A decimal number as written (no hex, binary, octal, words or empty text: Number() would take those). */
const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

export function numberOpt(values: Record<string, unknown>, name: string, def: number, min = 0): number {
  const v = values[name];
  if (v === undefined) return def;
  const x = Number(v);
  if (typeof v !== 'string' || !DECIMAL.test(v) || !Number.isFinite(x) || x < min) fail(`--${name}: '${String(v)}' is not a number >= ${min}`);
  return x;
}

/** A whole-number option in [min, max]; beyond max it is refused (not capped), naming the maximum. */
export function intOpt(values: Record<string, unknown>, name: string, def: number, min: number, max = Infinity): number {
  const v = values[name];
  if (v === undefined) return def;
  const x = Number(v);
  if (typeof v !== 'string' || !DECIMAL.test(v) || !Number.isInteger(x) || x < min) fail(`--${name}: '${String(v)}' is not a whole number >= ${min}`);
  if (x > max) fail(`--${name}: '${String(v)}' is more than the maximum, ${max}`);
  return x;
}

let jobsNoted = false;

/**
 * --jobs N (default: the cores): a whole number from 1; more threads than cores give no speed (the searches do not
 * depend on N) and each holds a copy of the network, so N is capped at the cores, with a note on stderr (not with
 * --json).
 */
export function jobsOpt(values: Record<string, unknown>): number {
  const cores = defaultWorkers();
  const n = intOpt(values, 'jobs', cores, 1);
  if (n <= cores) return n;
  if (!values.json && !jobsNoted) process.stderr.write(`nnshrink: note: --jobs ${n} is more than the ${cores} cores; using ${cores}\n`);
  jobsNoted = true;
  return cores;
}

/** --view raw|normalized (how an NNet file is read). */
/** --precision float32|float64, or `fallback` when it is not given. */
export function precisionOpt(values: Record<string, unknown>, fallback: 'float32' | 'float64'): 'float32' | 'float64' {
  const p = values.precision ?? fallback;
  if (p !== 'float32' && p !== 'float64') fail(`--precision: '${String(p)}' (expected float32 or float64)`);
  return p;
}

export function viewOpt(values: Record<string, unknown>): 'raw' | 'normalized' {
  const v = values.view;
  if (v === undefined || v === 'raw') return 'raw';
  if (v === 'normalized') return 'normalized';
  fail(`--view: '${String(v)}' (expected raw or normalized)`);
}


/** "1 box", "2 boxes": counts in messages read as English. */
export function nBoxes(n: number): string {
  return `${n} ${n === 1 ? 'box' : 'boxes'}`;
}

/** What NNet output did with linear hidden neurons (it has no way to state them); `pairs[k]`: layer k's. */
export function reluPairsNote(pairs: number[][]): string {
  return `NNet has no linear hidden neurons: ${pairs.reduce((t, l) => t + l.length, 0)} stored as ReLU pairs, relu(z) - relu(-z)`;
}

/**
 * A final check that did not prove the result ends prune with nothing written: refuted (a counterexample) 1, not
 * proved within the limits 3, sampling against a proof (a bug) 4; the library's NnsError of such an outcome the same.
 */
export function finalCheckExit(e: unknown): never {
  if (e instanceof FinalCheckFailed) throw new ExitError(e.message, e.status === 'refuted' ? EXIT.refuted : e.status === 'contradicted' ? EXIT.internal : EXIT.unknown);
  // the library's outcomes (refuted, not proved, aborted) end the command with their own exit code
  if (e instanceof NnsError && e.code !== 'bad-input' && !(e instanceof ExitError)) throw new ExitError(e.message, e.exitCode);
  throw e;
}
