/**
 * A job from the queue checked on the worker before it runs, with the model layer's own validators (shapes, finite
 * numbers, boxes): anything else is refused in one line, so a job cannot crash a worker, allocate without bound or
 * run for ever. What a job is for (its bounds are sound, its network the run's) is the coordinator's business: a
 * worker only protects itself.
 */
import { fail } from '../errors.ts';
import { validateNetwork, type Network } from '../model/network.ts';
import { validateBox, type Box } from '../model/box.ts';
import type { Tolerance } from '../verify/tolerance.ts';

/** the longest time limit a job may ask for (a day) and the most boxes or list entries it may carry */
export const MAX_JOB_MS = 86_400_000;
export const MAX_ITEMS = 1_000_000;
const MAX_LAYERS = 10_000;

export type Obj = Record<string, unknown>;

export function obj(v: unknown, where: string): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) fail(`${where}: expected an object`);
  return v as Obj;
}

export function list(v: unknown, where: string, max = MAX_ITEMS): unknown[] {
  if (!Array.isArray(v)) fail(`${where}: expected a list`);
  if (v.length > max) fail(`${where}: ${v.length} entries, more than ${max}`);
  return v;
}

export function num(v: unknown, where: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(`${where}: expected a number from ${lo} to ${hi}`);
  return v;
}

export function int(v: unknown, where: string, lo: number, hi: number): number {
  if (!Number.isInteger(num(v, where, lo, hi))) fail(`${where}: expected a whole number`);
  return v as number;
}

export const ms = (v: unknown, where: string): number => num(v, where, 0, MAX_JOB_MS);

/** v undefined, or what `check` accepts */
export function optional<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}

export function oneOf<T extends string>(v: unknown, where: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) fail(`${where}: expected one of ${values.join(', ')}`);
  return v as T;
}

export function f64(v: unknown, where: string, length?: number): Float64Array {
  if (!(v instanceof Float64Array)) fail(`${where}: expected float64 values`);
  if (length !== undefined && v.length !== length) fail(`${where}: ${v.length} values, expected ${length}`);
  return v;
}

/** A network as the model layer holds it, every number finite and every shape chained (validateNetwork). */
export function network(v: unknown, where: string): Network {
  const o = obj(v, where);
  const inputSize = int(o.inputSize, `${where}: inputSize`, 1, 1e8);
  const layers = list(o.layers, `${where}: layers`, MAX_LAYERS).map((L0, k) => {
    const L = obj(L0, `${where}: layer ${k + 1}`);
    const at = `${where}: layer ${k + 1}`;
    const inSize = int(L.inSize, `${at}: inSize`, 1, 1e8);
    const outSize = int(L.outSize, `${at}: outSize`, 1, 1e8);
    if (!(L.relu instanceof Uint8Array) || L.relu.length !== outSize || L.relu.some((r) => r > 1)) fail(`${at}: activations must be ${outSize} bytes of 0 or 1`);
    return { inSize, outSize, weights: f64(L.weights, `${at}: weights`), bias: f64(L.bias, `${at}: bias`), relu: L.relu };
  });
  const net: Network = { inputSize, layers };
  validateNetwork(net, where);
  return net;
}

export function box(v: unknown, n: number, where: string): Box {
  const o = obj(v, where);
  const b = { lo: f64(o.lo, `${where}: lo`), hi: f64(o.hi, `${where}: hi`) };
  validateBox(b, n, where);
  return b;
}

export const boxes = (v: unknown, n: number, where: string): Box[] => {
  const bs = list(v, where).map((b, i) => box(b, n, `${where} ${i + 1}`));
  if (!bs.length) fail(`${where}: no boxes`);
  return bs;
};

export function tolerance(v: unknown, where: string): Tolerance {
  const o = obj(v, where);
  const kind = oneOf(o.kind, `${where}: kind`, ['exact', 'linf', 'class'] as const);
  if (kind === 'exact') return { kind };
  if (kind === 'linf') return { kind, epsilon: num(o.epsilon, `${where}: epsilon`, 0, Number.MAX_VALUE) };
  return { kind, order: oneOf(o.order, `${where}: order`, ['argmax', 'argmin'] as const), margin: num(o.margin, `${where}: margin`, 0, Number.MAX_VALUE) };
}

/** A neuron of `net` (a hidden or the last layer) by layer and index. */
export function neuron(net: Network, layer: unknown, index: unknown, where: string): void {
  const k = int(layer, `${where}: layer`, 0, net.layers.length - 1);
  int(index, `${where}: index`, 0, net.layers[k].outSize - 1);
}

/** Bounds of the first layers of `net`, up to all (lo <= hi, none NaN; infinite ends allowed: a bound may be unbounded). */
export function networkBounds(v: unknown, net: Network, where: string): void {
  const layers = list(v, where, net.layers.length);
  if (!layers.length) fail(`${where}: no layers of bounds`);
  layers.forEach((L0, k) => {
    const L = obj(L0, `${where}: layer ${k + 1}`);
    const lo = f64(L.lo, `${where}: layer ${k + 1}: lo`, net.layers[k].outSize);
    const hi = f64(L.hi, `${where}: layer ${k + 1}: hi`, net.layers[k].outSize);
    for (let i = 0; i < lo.length; i++) if (!(lo[i] <= hi[i])) fail(`${where}: layer ${k + 1}: neuron ${i}: lo ${lo[i]} > hi ${hi[i]}`);
  });
}
