/**
 * NNet (the ACAS Xu text format): read as the function from RAW inputs to RAW outputs (input normalisation folded
 * into the first layer, output de-normalisation into the last), or as the stored normalised network (what the
 * VNN-COMP ONNX files compute). NNet also clips raw inputs to [min, max]; on the domain that is the identity, so
 * the loaded network equals NNet semantics on its natural domain, the raw [min, max] box.
 */
import { makeLayer, validateNetwork, type Layer, type Network } from '../model/network.ts';
import { makeBox, type Box } from '../model/box.ts';
import { fail, quote } from '../errors.ts';
import type { LoadedModel, NNetNormalization } from './model-file.ts';
import { readInputFile } from './read-text.ts';
import { writeFileAtomic } from './atomic.ts';

/** Bounds written for an unbounded input (NNet has no infinity); read back as "no domain". */
const HUGE = 1e300;

interface Cursor {
  lines: { no: number; text: string }[];
  i: number;
}

/** NNet numbers are decimal (a hex '0x10' must not read as 16, nor 'Infinity' as a weight). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function numbersOf(path: string, line: { no: number; text: string }): number[] {
  const toks = line.text.split(',').map((t) => t.trim());
  if (toks.length && toks[toks.length - 1] === '') toks.pop();
  return toks.map((t, j) => {
    if (/^[-+]?(nan|inf|infinity)$/i.test(t)) fail(`${path}:${line.no}: value ${j + 1} is ${t} (weights must be finite)`);
    if (!DECIMAL.test(t)) fail(`${path}:${line.no}: value ${j + 1} ${quote(t)} is not a number`);
    const v = Number(t);
    if (!Number.isFinite(v)) fail(`${path}:${line.no}: value ${j + 1} is ${quote(t)} (weights must be finite)`);
    return v;
  });
}

/** At most how many values the lines from `from` on hold (counted by commas, before any is parsed). */
function valuesLeft(lines: { text: string }[], from: number): number {
  let k = 0;
  for (let i = from; i < lines.length; i++) {
    const t = lines[i].text.trimEnd();
    let commas = 0;
    for (let j = t.indexOf(','); j >= 0; j = t.indexOf(',', j + 1)) commas++;
    k += commas + (t.endsWith(',') ? 0 : 1);
  }
  return k;
}

/**
 * Refuses layer sizes the rest of the file cannot hold (one line and n + 1 values per neuron), before anything of
 * their size is allocated: a size of 1e12 is an error naming it, not an allocation failure.
 */
function checkSizesFit(path: string, sl: { no: number }, sizes: number[], c: Cursor): void {
  let lines = 0;
  let values = 0;
  for (let k = 0; k + 1 < sizes.length; k++) {
    lines += 2 * sizes[k + 1];
    values += sizes[k + 1] * (sizes[k] + 1);
  }
  const haveLines = c.lines.length - c.i;
  const have = valuesLeft(c.lines, c.i);
  if (lines > haveLines || values > have) {
    const big = Math.max(...sizes);
    fail(`${path}: file ends early: the layer sizes on line ${sl.no} (largest ${big}) need ${lines} lines of ${values} weights and biases, the file has ${haveLines} lines of at most ${have} values`);
  }
}

function nextLine(path: string, c: Cursor, what: string): { no: number; text: string } {
  if (c.i >= c.lines.length) fail(`${path}: file ends early: expected ${what}`);
  return c.lines[c.i++];
}

function expectCount(path: string, line: { no: number }, vals: number[], n: number, what: string): void {
  if (vals.length !== n) fail(`${path}:${line.no}: ${what}: expected ${n} values, found ${vals.length}`);
}

export interface ParsedNNet {
  raw: Network;
  normalized: Network;
  norm: NNetNormalization;
  domain: Box;
  /** false when the file states no finite input bounds */
  hasDomain: boolean;
}

export function parseNNet(text: string, path: string): ParsedNNet {
  const all = text.split(/\r?\n/).map((t, i) => ({ no: i + 1, text: t }));
  const lines = all.filter((l) => l.text.trim() !== '' && !l.text.trimStart().startsWith('//'));
  if (!lines.length) fail(`${path}: empty file (no NNet header)`);
  const c: Cursor = { lines, i: 0 };
  const h = nextLine(path, c, 'the header');
  const head = numbersOf(path, h);
  if (head.length < 4) fail(`${path}:${h.no}: header needs numLayers,inputSize,outputSize,maxLayerSize`);
  const [numLayers, inputSize, outputSize] = head;
  if (!(Number.isInteger(numLayers) && numLayers >= 1)) fail(`${path}:${h.no}: numLayers ${numLayers} is not a positive integer`);
  const sl = nextLine(path, c, 'the layer sizes');
  const sizes = numbersOf(path, sl);
  expectCount(path, sl, sizes, numLayers + 1, `layer sizes (numLayers ${numLayers} + 1)`);
  sizes.forEach((s) => {
    if (!(Number.isInteger(s) && s >= 1)) fail(`${path}:${sl.no}: layer size ${s} is not a positive integer`);
  });
  if (sizes[0] !== inputSize) fail(`${path}:${sl.no}: first layer size ${sizes[0]} != inputSize ${inputSize} in the header`);
  if (sizes[numLayers] !== outputSize) fail(`${path}:${sl.no}: last layer size ${sizes[numLayers]} != outputSize ${outputSize} in the header`);
  nextLine(path, c, 'the symmetric flag');
  // the four normalisation lines come next: what the layers need must fit after them
  checkSizesFit(path, sl, sizes, { lines: c.lines, i: Math.min(c.i + 4, c.lines.length) });
  const read = (what: string, n: number): number[] => {
    const l = nextLine(path, c, what);
    const v = numbersOf(path, l);
    expectCount(path, l, v, n, what);
    return v;
  };
  const mins = read('input minimums', inputSize);
  const maxs = read('input maximums', inputSize);
  const means = read('means (one per input, then the output mean)', inputSize + 1);
  const ranges = read('ranges (one per input, then the output range)', inputSize + 1);
  mins.forEach((m, i) => {
    if (m > maxs[i]) fail(`${path}: input ${i} has minimum ${m} > maximum ${maxs[i]}`);
  });
  ranges.forEach((r, i) => {
    if (r === 0) fail(`${path}: range ${i} is zero (division by zero in the normalisation)`);
  });
  const layers: Layer[] = [];
  for (let k = 0; k < numLayers; k++) {
    const n = sizes[k];
    const m = sizes[k + 1];
    const W = new Float64Array(m * n);
    const b = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const row = read(`layer ${k + 1} weights of neuron ${i + 1}`, n);
      for (let j = 0; j < n; j++) W[i * n + j] = row[j];
    }
    for (let i = 0; i < m; i++) b[i] = read(`layer ${k + 1} bias of neuron ${i + 1}`, 1)[0];
    layers.push(makeLayer(n, m, W, b, k < numLayers - 1));
  }
  if (c.i < lines.length) {
    const extra = lines[c.i];
    fail(`${path}:${extra.no}: data after the last bias (line ${lines[c.i - 1].no}, where the layer sizes on line ${sl.no} end the file)`);
  }
  const normalized: Network = { inputSize, layers };
  validateNetwork(normalized, path);
  const norm: NNetNormalization = {
    inputMin: Float64Array.from(mins),
    inputMax: Float64Array.from(maxs),
    inputMean: Float64Array.from(means.slice(0, inputSize)),
    inputRange: Float64Array.from(ranges.slice(0, inputSize)),
    outputMean: means[inputSize],
    outputRange: ranges[inputSize],
  };
  const raw = denormalize(normalized, norm);
  const hasDomain = mins.every((v) => Math.abs(v) < HUGE) && maxs.every((v) => Math.abs(v) < HUGE);
  return { raw, normalized, norm, domain: makeBox(mins, maxs), hasDomain };
}

/** Folds (x - mean)/range into the first layer and y*range + mean into the last. */
function denormalize(net: Network, nm: NNetNormalization): Network {
  const layers = net.layers.map((L) => ({ ...L, weights: Float64Array.from(L.weights), bias: Float64Array.from(L.bias) }));
  const F = layers[0];
  for (let i = 0; i < F.outSize; i++) {
    for (let j = 0; j < F.inSize; j++) {
      const w = F.weights[i * F.inSize + j] / nm.inputRange[j];
      F.weights[i * F.inSize + j] = w;
      F.bias[i] -= w * nm.inputMean[j];
    }
  }
  const O = layers[layers.length - 1];
  for (let i = 0; i < O.outSize; i++) {
    for (let j = 0; j < O.inSize; j++) O.weights[i * O.inSize + j] *= nm.outputRange;
    O.bias[i] = O.bias[i] * nm.outputRange + nm.outputMean;
  }
  return { inputSize: net.inputSize, layers };
}

function normalizedBox(nm: NNetNormalization): Box {
  const lo = nm.inputMin.map((v, i) => (v - nm.inputMean[i]) / nm.inputRange[i]);
  const hi = nm.inputMax.map((v, i) => (v - nm.inputMean[i]) / nm.inputRange[i]);
  return makeBox(lo.map((v, i) => Math.min(v, hi[i])), hi.map((v, i) => Math.max(v, lo[i])));
}

export function readNNet(path: string, view: 'raw' | 'normalized' = 'raw'): LoadedModel {
  return nnetModel(parseNNet(readInputFile(path).toString('utf8'), path), path, view);
}

/** A parsed NNet file as a model in the view asked for (the domain in the same units). */
export function nnetModel(p: ParsedNNet, path: string, view: 'raw' | 'normalized'): LoadedModel {
  return {
    network: view === 'raw' ? p.raw : p.normalized,
    domain: p.hasDomain ? (view === 'raw' ? p.domain : normalizedBox(p.norm)) : undefined,
    format: 'nnet',
    path,
    nnet: p.norm,
    view,
  };
}

/** Shortest text that reads back as the same double. */
const num = (v: number): string => (Object.is(v, -0) ? '0' : String(v));

/**
 * NNet has ReLU on every hidden neuron, so a linear hidden neuron z is written as the pair relu(z), relu(-z), the
 * next layer taking v relu(z) - v relu(-z) = v z: the same real function, with the same products (one of each pair
 * is zero). Proofs are about the real function of the stored numbers, with every bound widened for rounding, so the
 * different order of the next layer's sum changes nothing they claim.
 */
export function linearAsReluPairs(net: Network): Network {
  const last = net.layers.length - 1;
  const layers = net.layers.map((L) => ({ ...L }));
  const linear = hiddenLinearNeurons(net);
  for (let k = 0; k < last; k++) {
    const L = layers[k];
    const lin = linear[k];
    if (lin.length === 0) continue;
    const m = L.outSize + lin.length;
    const W = new Float64Array(m * L.inSize);
    W.set(L.weights);
    const b = new Float64Array(m);
    b.set(L.bias);
    lin.forEach((i, q) => {
      const dst = (L.outSize + q) * L.inSize;
      for (let j = 0; j < L.inSize; j++) W[dst + j] = -L.weights[i * L.inSize + j];
      b[L.outSize + q] = -L.bias[i];
    });
    layers[k] = makeLayer(L.inSize, m, W, b, true);
    const N = layers[k + 1];
    const W2 = new Float64Array(N.outSize * m);
    for (let r = 0; r < N.outSize; r++) {
      for (let j = 0; j < N.inSize; j++) W2[r * m + j] = N.weights[r * N.inSize + j];
      lin.forEach((i, q) => (W2[r * m + N.inSize + q] = -N.weights[r * N.inSize + i]));
    }
    layers[k + 1] = makeLayer(m, N.outSize, W2, N.bias, N.relu);
  }
  return { inputSize: net.inputSize, layers };
}

/** The linear neurons of each hidden layer (what NNet stores as ReLU pairs). */
export function hiddenLinearNeurons(net: Network): number[][] {
  return net.layers.slice(0, -1).map((L) => [...L.relu.keys()].filter((i) => !L.relu[i]));
}

function sameNumbers(a: Network, b: Network): boolean {
  return (
    a.layers.length === b.layers.length &&
    a.layers.every((L, k) => {
      const B = b.layers[k];
      return L.inSize === B.inSize && L.outSize === B.outSize && L.weights.every((w, i) => w === B.weights[i]) && L.bias.every((v, i) => v === B.bias[i]);
    })
  );
}

/**
 * What an NNet file written from `net` holds, in `net`'s own shape: `net` itself when the file read back (`back`)
 * has exactly the numbers of net's ReLU-pair form (the same real function, so proofs about `net` are proofs about the
 * file); else `back` as read. Lets a pruned network's final check keep its layer-by-layer structure.
 */
export function nnetStoredAs(net: Network, back: Network): Network {
  return sameNumbers(linearAsReluPairs(net), back) ? net : back;
}

/**
 * The network an NNet file stores as ReLU pairs, given which hidden neurons were linear (`linear[k]`, as a prune
 * certificate records them): the first neurons of each layer, those listed made linear again. Fails in one line
 * unless the file is exactly that network's pair form.
 */
export function nnetUnpair(back: Network, linear: number[][], path: string): Network {
  const last = back.layers.length - 1;
  if (!Array.isArray(linear) || !linear.every((l) => Array.isArray(l) && l.every((i) => Number.isInteger(i)))) fail(`${path}: the certificate's ReLU-pair list is not a list of neuron index lists`);
  if (linear.length !== last) fail(`${path}: the certificate lists linear neurons for ${linear.length} hidden layers, the file has ${last}`);
  let prevKept = back.inputSize;
  const layers = back.layers.map((B, k) => {
    const kept = k < last ? B.outSize - linear[k].length : B.outSize;
    if (kept <= 0 || (k < last && linear[k].some((i) => !(i >= 0 && i < kept)))) fail(`${path}: layer ${k + 1} does not hold the certificate's ReLU pairs`);
    const W = new Float64Array(kept * prevKept);
    for (let r = 0; r < kept; r++) for (let j = 0; j < prevKept; j++) W[r * prevKept + j] = B.weights[r * B.inSize + j];
    const relu = new Uint8Array(kept).fill(k < last ? 1 : 0);
    if (k < last) for (const i of linear[k]) relu[i] = 0;
    const L = makeLayer(prevKept, kept, W, B.bias.slice(0, kept), relu);
    prevKept = kept;
    return L;
  });
  const net = { inputSize: back.inputSize, layers };
  if (!sameNumbers(linearAsReluPairs(net), back)) fail(`${path}: the file is not the ReLU-pair form its certificate describes`);
  return net;
}

export function nnetText(net0: Network, opts: { domain?: Box; comment?: string } = {}): string {
  const last = net0.layers.length - 1;
  const outL = net0.layers[last];
  if (outL.relu.some((r) => r)) fail('NNet cannot express a ReLU on the output layer; write ONNX instead');
  const net = linearAsReluPairs(net0);
  const n = net.inputSize;
  const sizes = [n, ...net.layers.map((L) => L.outSize)];
  const out: string[] = [];
  out.push(`// ${opts.comment ?? 'Written by nnshrink'}`);
  out.push(`${net.layers.length},${n},${sizes[sizes.length - 1]},${Math.max(...sizes)},`);
  out.push(sizes.join(',') + ',');
  out.push('0,');
  const lo = opts.domain ? Array.from(opts.domain.lo) : new Array(n).fill(-HUGE);
  const hi = opts.domain ? Array.from(opts.domain.hi) : new Array(n).fill(HUGE);
  out.push(lo.map(num).join(',') + ',');
  out.push(hi.map(num).join(',') + ',');
  out.push(new Array(n + 1).fill('0').join(',') + ',');
  out.push(new Array(n + 1).fill('1').join(',') + ',');
  for (const L of net.layers) {
    for (let i = 0; i < L.outSize; i++) {
      out.push(Array.from(L.weights.subarray(i * L.inSize, (i + 1) * L.inSize), num).join(',') + ',');
    }
    for (let i = 0; i < L.outSize; i++) out.push(num(L.bias[i]) + ',');
  }
  return out.join('\n') + '\n';
}

export function writeNNet(net: Network, path: string, opts: { domain?: Box; comment?: string } = {}): void {
  writeFileAtomic(path, nnetText(net, opts));
}
