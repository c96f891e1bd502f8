/** nnshrink's own exact JSON network format (full double precision, per-neuron activations, optional domain). */
import { makeLayer, validateNetwork, type Network } from '../model/network.ts';
import { makeBox, validateBox, boxToJSON } from '../model/box.ts';
import { fail } from '../errors.ts';
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
  let obj: { format?: unknown; version?: unknown; inputSize?: unknown; layers?: unknown; domain?: { lo: number[]; hi: number[] } };
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!obj || obj.format !== JSON_FORMAT) fail(`${path}: not an nnshrink network (field "format" must be "${JSON_FORMAT}")`);
  if (obj.version !== 1) fail(`${path}: unsupported version ${String(obj.version)}`);
  const inputSize = obj.inputSize;
  if (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize < 1) fail(`${path}: "inputSize" must be a positive integer`);
  if (!Array.isArray(obj.layers) || obj.layers.length === 0) fail(`${path}: "layers" must be a non-empty list`);
  let prev = inputSize;
  const layers = (obj.layers as JsonLayer[]).map((L, k) => {
    const where = `${path}: layer ${k + 1}`;
    if (!L || !Array.isArray(L.weights) || !Array.isArray(L.bias) || !Array.isArray(L.activation)) {
      fail(`${where}: needs "weights", "bias" and "activation" lists`);
    }
    const m = L.weights.length;
    if (L.bias.length !== m || L.activation.length !== m) fail(`${where}: ${m} weight rows but ${L.bias.length} biases and ${L.activation.length} activations`);
    const W = new Float64Array(m * prev);
    L.weights.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== prev) fail(`${where}: weight row ${i + 1} has ${Array.isArray(row) ? row.length : 'no'} values, expected ${prev}`);
      row.forEach((v, j) => {
        if (typeof v !== 'number') fail(`${where}: weight [${i},${j}] is not a number`);
        W[i * prev + j] = v;
      });
    });
    const relu = Uint8Array.from(L.activation, (a, i) => {
      if (a !== 'relu' && a !== 'identity') fail(`${where}: activation ${i + 1} is '${String(a)}' (expected relu or identity)`);
      return a === 'relu' ? 1 : 0;
    });
    const b = Float64Array.from(L.bias, (v, i) => {
      if (typeof v !== 'number') fail(`${where}: bias ${i + 1} is not a number`);
      return v;
    });
    const layer = makeLayer(prev, m, W, b, relu);
    prev = m;
    return layer;
  });
  const network: Network = { inputSize, layers };
  validateNetwork(network, path);
  let domain;
  if (obj.domain) {
    if (!Array.isArray(obj.domain.lo) || !Array.isArray(obj.domain.hi)) fail(`${path}: "domain" needs "lo" and "hi" lists`);
    domain = makeBox(obj.domain.lo, obj.domain.hi);
    validateBox(domain, inputSize, `${path}: domain`);
  }
  return { network, domain, format: 'json', path };
}
