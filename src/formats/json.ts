/** nnshrink's own exact JSON network format (full double precision, per-neuron activations, optional domain). */
import { makeLayer, validateNetwork, type Layer, type Network } from '../model/network.ts';
import { boxFromJSON, boxToJSON } from '../model/box.ts';
import { fail, quote } from '../errors.ts';
import type { LoadedModel, SaveOptions } from './model-file.ts';

export const JSON_FORMAT = 'nnshrink-network';

interface JsonLayer {
  weights: number[][];
  bias: number[];
  activation: Array<'relu' | 'identity'>;
}

export function jsonNetworkText(net: Network, opts: SaveOptions = {}): string {
  const obj = {
    format: JSON_FORMAT,
    version: 1,
    inputSize: net.inputSize,
    layers: net.layers.map((L) => ({
      weights: Array.from({ length: L.outSize }, (_, i) => Array.from(L.weights.subarray(i * L.inSize, (i + 1) * L.inSize))),
      bias: Array.from(L.bias),
      activation: Array.from(L.relu, (r) => (r ? 'relu' : 'identity')),
    })),
    ...(opts.domain ? { domain: boxToJSON(opts.domain) } : {}),
  };
  return JSON.stringify(obj) + '\n';
}

export function parseJsonNetwork(text: string, path: string): LoadedModel {
  let obj: { format?: unknown; version?: unknown; inputSize?: unknown; layers?: unknown; domain?: unknown };
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!obj || typeof obj !== 'object' || obj.format !== JSON_FORMAT) fail(`${path}: not an nnshrink network (field "format" must be "${JSON_FORMAT}")`);
  if (obj.version !== 1) fail(`${path}: unsupported version ${quote(String(obj.version))} (field "version" must be 1)`);
  const inputSize = obj.inputSize;
  if (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize < 1) fail(`${path}: "inputSize" must be a positive integer`);
  if (!Array.isArray(obj.layers) || obj.layers.length === 0) fail(`${path}: "layers" must be a non-empty list`);
  let prev = inputSize;
  const layers = (obj.layers as unknown[]).map((L, k) => {
    const layer = jsonLayer(L, prev, `${path}: layer ${k + 1}`, k === 0);
    prev = layer.outSize;
    return layer;
  });
  const network: Network = { inputSize, layers };
  validateNetwork(network, path);
  // a "domain" that is present must be a box: null is refused, not read as "no domain"
  const domain = obj.domain === undefined ? undefined : boxFromJSON(obj.domain, inputSize, `${path}: "domain"`);
  return { network, domain, format: 'json', path };
}

/**
 * One layer taking `prev` inputs, every list checked (lengths, numbers, not null) before anything of its size is
 * allocated: an "inputSize" of 1e12 is refused at the first weight row, whose length is what the file holds.
 */
function jsonLayer(L0: unknown, prev: number, where: string, first: boolean): Layer {
  const L = L0 as Partial<JsonLayer> | null;
  if (!L || typeof L !== 'object' || !Array.isArray(L.weights) || !Array.isArray(L.bias) || !Array.isArray(L.activation)) {
    fail(`${where}: needs "weights", "bias" and "activation" lists`);
  }
  const m = L.weights.length;
  if (m === 0) fail(`${where}: "weights" is empty (a layer needs at least one neuron)`);
  if (L.bias.length !== m || L.activation.length !== m) fail(`${where}: ${m} weight rows but ${L.bias.length} biases and ${L.activation.length} activations`);
  const expected = first ? `${prev} ("inputSize")` : `${prev}`;
  L.weights.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== prev) fail(`${where}: weight row ${i + 1} has ${Array.isArray(row) ? row.length : 'no'} values, expected ${expected}`);
  });
  const W = new Float64Array(m * prev);
  L.weights.forEach((row, i) => {
    row.forEach((v, j) => {
      if (typeof v !== 'number') fail(`${where}: weight [${i},${j}] is ${what(v)}, expected a number`);
      W[i * prev + j] = v;
    });
  });
  const relu = Uint8Array.from(L.activation, (a, i) => {
    if (a !== 'relu' && a !== 'identity') fail(`${where}: activation ${i + 1} is ${typeof a === 'string' ? quote(a) : what(a)} (expected relu or identity)`);
    return a === 'relu' ? 1 : 0;
  });
  const b = Float64Array.from(L.bias, (v, i) => {
    if (typeof v !== 'number') fail(`${where}: bias ${i + 1} is ${what(v)}, expected a number`);
    return v;
  });
  return makeLayer(prev, m, W, b, relu);
}

/** How a JSON value that is not what was expected is named in a message. */
const what = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'string' ? `the string ${quote(v)}` : typeof v);
