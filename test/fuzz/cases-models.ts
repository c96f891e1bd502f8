/**
 * Malformed network files: truncations and byte replacements of valid NNet, JSON and ONNX files, header edits, huge
 * sizes and non-finite values. Every case is made so that it CANNOT be a valid network (offsets are chosen where a
 * cut or a replaced byte leaves a value missing or a token that no reader may accept), so 'bad-input' is certain.
 */
import { copyOf, enc, findAll, JUNK, pickOffsets, range, replaceByte, truncate, type Rng } from './bytes.ts';
import { sources } from './sources.ts';
import { badInput, type FuzzCase } from './types.ts';
import { decodeModel, encodeModel, type OModel } from '../../src/formats/onnx-schema.ts';

/** A command that reads the model and nothing else costly; rotated so info, eval and convert all see bad files. */
export function readCmd(file: string, i: number): string[] {
  switch (i % 3) {
    case 0:
      return ['info', file];
    case 1:
      return ['eval', file, '--input', '0,0,0,0,0'];
    default:
      return ['convert', file, 'out.json'];
  }
}

const junkAt = (rng: Rng): number => rng.pick(JUNK);

// ---------- NNet ----------

/** Offsets in the numeric part of the NNet text (after the comments, not on the unparsed symmetric-flag line). */
function nnetFlipOffsets(text: string): number[] {
  const lines = text.split('\n');
  const out: number[] = [];
  let at = 0;
  let dataLine = 0;
  for (const line of lines) {
    const isData = line.trim() !== '' && !line.startsWith('//');
    if (isData) {
      if (dataLine !== 2) for (let i = 0; i < line.length; i++) if (/[0-9,]/.test(line[i])) out.push(at + i);
      dataLine++;
    }
    at += line.length + 1;
  }
  return out;
}

export function nnetCases(rng: Rng, scale: number): FuzzCase[] {
  const text = sources().nnet;
  const data = enc(text);
  const out: FuzzCase[] = [];
  // cutting before the last value's first byte leaves at least one value missing
  const lastLineStart = text.trimEnd().lastIndexOf('\n') + 1;
  for (const [i, at] of pickOffsets(range(0, lastLineStart), 30 * scale, rng).entries()) {
    out.push(badInput(`nnet-trunc-${at}`, 'truncation', { 'net.nnet': truncate(data, at) }, readCmd('net.nnet', i), 'a cut before the last value leaves values missing'));
  }
  for (const [i, at] of pickOffsets(nnetFlipOffsets(text), 25 * scale, rng).entries()) {
    const b = junkAt(rng);
    out.push(badInput(`nnet-flip-${at}-${b}`, 'byte-flip', { 'net.nnet': replaceByte(data, at, b) }, readCmd('net.nnet', i), 'a digit or comma replaced by a byte no number holds'));
  }
  const lines = text.split('\n');
  const withLine = (k: number, s: string): string => lines.map((l, i) => (i === k ? s : l)).join('\n');
  // line 1 is the header, line 2 the sizes, 3 the symmetric flag, 4-7 normalisation, 8 on the weights
  const w = lines[8];
  const edits: Array<[string, string, string]> = [
    ['sizes-huge', withLine(2, '5,1000000000000,24,12,3,'), 'a layer of 1e12 neurons that the file cannot hold'],
    ['sizes-huge-all', withLine(2, '5,1000000000000,1000000000000,1000000000000,3,'), 'layers of 1e12 neurons'],
    ['header-huge-layers', withLine(1, '1000000000000,5,3,24,'), '1e12 layers in the header, 5 sizes'],
    ['header-huge-input', withLine(1, '4,1000000000000,3,24,') , 'inputSize 1e12 differs from the sizes line'],
    ['sizes-extra', withLine(2, '5,24,24,12,3,7,'), 'one size more than numLayers + 1'],
    ['sizes-fewer', withLine(2, '5,24,24,12,'), 'one size fewer'],
    ['sizes-zero', withLine(2, '5,0,24,12,3,'), 'a layer of 0 neurons'],
    ['sizes-negative', withLine(2, '5,-24,24,12,3,'), 'a negative layer size'],
    ['sizes-fraction', withLine(2, '5,2.5,24,12,3,'), 'a fractional layer size'],
    ['sizes-input-mismatch', withLine(2, '6,24,24,12,3,'), 'sizes[0] differs from inputSize'],
    ['header-zero-layers', withLine(1, '0,5,3,24,'), 'numLayers 0'],
    ['header-short', withLine(1, '4,5,3,'), 'a header of three values'],
    ['weight-nan', withLine(8, w.replace(/^[^,]+/, 'NaN')), 'a NaN weight'],
    ['weight-inf', withLine(8, w.replace(/^[^,]+/, 'Infinity')), 'an infinite weight'],
    ['weight-neg-inf', withLine(8, w.replace(/^[^,]+/, '-inf')), 'an infinite weight'],
    ['weight-overflow', withLine(8, w.replace(/^[^,]+/, '1e999')), '1e999 overflows to Infinity'],
    ['weight-hex', withLine(8, w.replace(/^[^,]+/, '0x10')), 'NNet numbers are decimal: 0x10 is not 16'],
    ['weight-empty', withLine(8, w.replace(/^[^,]+,/, ',')), 'an empty value'],
    ['weight-extra', withLine(8, w + '0.5,'), 'one weight too many on a row'],
    ['mean-nan', withLine(6, 'NaN,0,0,0,0,0,'), 'a NaN mean'],
    ['range-zero', withLine(7, '1,1,0,1,1,1,'), 'a zero range divides by zero'],
    ['range-inf', withLine(7, '1,1,1e999,1,1,1,'), 'an infinite range'],
    ['min-above-max', withLine(4, '2,-1,-1,-1,-1,'), 'input 0 has min 2 > max 1'],
    ['min-nan', withLine(4, 'nan,-1,-1,-1,-1,'), 'a NaN input minimum'],
    ['after-last-bias', text.trimEnd() + '\n0.5,\n', 'data after the last bias'],
    ['bias-nan', text.trimEnd().replace(/[^\n]+$/, 'NaN,') + '\n', 'a NaN output bias'],
    ['empty', '', 'an empty file'],
    ['comments-only', '// nothing but a comment\n', 'no header'],
  ];
  edits.forEach(([name, t, why], i) => out.push(badInput(`nnet-${name}`, name.includes('huge') ? 'huge-size' : /nan|inf|overflow/.test(name) ? 'non-finite' : 'header-edit', { 'net.nnet': t }, readCmd('net.nnet', i), why)));
  return out;
}

// ---------- JSON ----------

export function jsonCases(rng: Rng, scale: number): FuzzCase[] {
  const text = sources().json;
  const data = enc(text);
  const out: FuzzCase[] = [];
  // JSON.stringify's text is not valid JSON until its last '}'
  for (const [i, at] of pickOffsets(range(0, text.lastIndexOf('}')), 30 * scale, rng).entries()) {
    out.push(badInput(`json-trunc-${at}`, 'truncation', { 'net.json': truncate(data, at) }, readCmd('net.json', i), 'cut before the closing brace: not JSON'));
  }
  const structural: number[] = [];
  for (let i = 0; i < text.length; i++) if (/[0-9{}[\],:"]/.test(text[i])) structural.push(i);
  for (const [i, at] of pickOffsets(structural, 25 * scale, rng).entries()) {
    const b = junkAt(rng);
    out.push(badInput(`json-flip-${at}-${b}`, 'byte-flip', { 'net.json': replaceByte(data, at, b) }, readCmd('net.json', i), 'a digit or JSON punctuation replaced by junk: not JSON'));
  }
  const obj = (): Record<string, any> => JSON.parse(text);
  const edit = (f: (o: Record<string, any>) => void): string => {
    const o = obj();
    f(o);
    return JSON.stringify(o);
  };
  const L0 = (o: Record<string, any>) => o.layers[0];
  const edits: Array<[string, string, string]> = [
    ['input-size-huge', edit((o) => (o.inputSize = 1e12)), 'inputSize 1e12 with rows of 5 weights'],
    ['input-size-zero', edit((o) => (o.inputSize = 0)), 'inputSize 0'],
    ['input-size-fraction', edit((o) => (o.inputSize = 2.5)), 'a fractional inputSize'],
    ['input-size-string', edit((o) => (o.inputSize = '5')), 'inputSize is a string'],
    ['input-size-null', edit((o) => (o.inputSize = null)), 'inputSize null'],
    ['format-wrong', edit((o) => (o.format = 'onnx')), 'not the nnshrink format'],
    ['version-2', edit((o) => (o.version = 2)), 'an unknown version'],
    ['layers-empty', edit((o) => (o.layers = [])), 'no layers'],
    ['layers-null', edit((o) => (o.layers = null)), 'layers null'],
    ['layer-null', edit((o) => (o.layers[1] = null)), 'a layer that is null'],
    ['bias-short', edit((o) => L0(o).bias.pop()), 'one bias fewer than weight rows'],
    ['activation-sigmoid', edit((o) => (L0(o).activation[3] = 'sigmoid')), 'an activation nnshrink does not have'],
    ['activation-null', edit((o) => (L0(o).activation[3] = null)), 'an activation that is null'],
    ['row-short', edit((o) => L0(o).weights[2].pop()), 'a weight row one value short'],
    ['row-null', edit((o) => (L0(o).weights[2] = null)), 'a weight row that is null'],
    ['weight-null', edit((o) => (L0(o).weights[2][1] = null)), 'a null weight'],
    ['weight-string', edit((o) => (L0(o).weights[2][1] = '0.5')), 'a weight given as a string'],
    ['weight-bool', edit((o) => (L0(o).weights[2][1] = true)), 'a weight given as a boolean'],
    ['weight-nan-string', edit((o) => (L0(o).weights[2][1] = 'NaN')), 'NaN (as JSON has no NaN)'],
    ['weight-overflow', text.replace(/("weights":\[\[)[^,]+/, '$11e999'), '1e999 parses to Infinity'],
    ['bias-overflow', text.replace(/("bias":\[)[^,]+/, '$1-1e999'), '-1e999 parses to -Infinity'],
    ['bias-null', edit((o) => (o.layers[2].bias[0] = null)), 'a null bias'],
    ['domain-null-value', edit((o) => (o.domain.lo[2] = null)), 'null in the domain'],
    ['domain-lo-above-hi', edit((o) => (o.domain.lo[2] = 3)), 'domain lo 3 > hi 1'],
    ['domain-short', edit((o) => o.domain.hi.pop()), 'a domain of 4 values for 5 inputs'],
    ['domain-infinite', text.replace(/("hi":\[)[^,]+/, '$11e999'), 'an infinite domain bound'],
    ['domain-empty', edit((o) => (o.domain = {})), 'a domain without lo and hi'],
    ['domain-string', edit((o) => (o.domain = { lo: '0', hi: '1' })), 'domain bounds that are strings'],
    ['nested-deep', '{"format":"nnshrink-network","version":1,"inputSize":5,"layers":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}', 'layers nested 100,000 deep'],
    ['not-object', '[1,2,3]', 'a JSON array, not a network'],
    ['empty', '', 'an empty file'],
  ];
  edits.forEach(([name, t, why], i) =>
    out.push(badInput(`json-${name}`, name.includes('huge') || name.includes('deep') ? 'huge-size' : /nan|overflow|null|infinite/.test(name) ? 'non-finite' : 'header-edit', { 'net.json': t }, readCmd('net.json', i), why)),
  );
  return out;
}

// ---------- ONNX ----------

/** Where the float data of the initializers lies in the file (so that no edit of a name or op type touches it). */
function rawRanges(bytes: Uint8Array, model: OModel): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.raw_data;
    if (!raw || raw.length < 8) continue;
    for (const at of findAll(bytes, raw)) ranges.push([at, at + raw.length]);
  }
  return ranges;
}

const outside = (ranges: Array<[number, number]>) => (at: number) => !ranges.some(([a, b]) => at >= a && at < b);

/** A string field's bytes as protobuf writes them: tag, length, text. */
const field = (tag: number, s: string): Uint8Array => Uint8Array.from([tag, s.length, ...enc(s)]);

function onnxFlips(bytes: Uint8Array, model: OModel, rng: Rng, scale: number, tag: string): FuzzCase[] {
  const out: FuzzCase[] = [];
  const free = outside(rawRanges(bytes, model));
  // op types (NodeProto field 4), node inputs / outputs (fields 1, 2), initializer names (TensorProto field 8), the
  // graph's input and output names (ValueInfoProto field 1): one character made a control byte
  const targets: Array<[string, Uint8Array, string]> = [
    ['op-gemm', field(0x22, 'Gemm'), 'an operator type nobody defines'],
    ['op-relu', field(0x22, 'Relu'), 'an operator type nobody defines'],
    ['node-input-w', field(0x0a, 'W1'), 'a node reads a tensor that does not exist'],
    ['node-input-b', field(0x0a, 'B2'), 'a node reads a tensor that does not exist'],
    ['node-output', field(0x12, 'z1'), 'a node writes a tensor nothing reads'],
    ['init-name', field(0x42, 'W0'), 'an initializer renamed: Gemm reads a missing tensor'],
    ['input-name', field(0x0a, 'input'), 'the data path is broken at the graph input'],
    ['output-name', field(0x12, 'output'), 'the graph output is not what the last node writes'],
  ];
  for (const [name, needle, why] of targets) {
    const hits = findAll(bytes, needle).filter(free);
    for (const at of hits.slice(0, scale)) {
      const pos = at + 2 + rng.int(needle.length - 2);
      out.push(badInput(`onnx${tag}-flip-${name}-${pos}`, 'byte-flip', { 'net.onnx': replaceByte(bytes, pos, 0x01) }, readCmd('net.onnx', out.length), why));
    }
  }
  // non-finite weights written into the float data
  const f32 = tag === '32';
  const nan = f32 ? [0, 0, 0xc0, 0x7f] : [0, 0, 0, 0, 0, 0, 0xf8, 0x7f];
  const inf = f32 ? [0, 0, 0x80, 0x7f] : [0, 0, 0, 0, 0, 0, 0xf0, 0x7f];
  const ranges = rawRanges(bytes, model);
  for (let k = 0; k < 4 * scale && ranges.length; k++) {
    const [a, b] = rng.pick(ranges);
    const size = f32 ? 4 : 8;
    const at = a + size * rng.int((b - a) / size);
    const val = k % 2 ? inf : nan;
    const edited = copyOf(bytes);
    edited.set(val, at);
    out.push(badInput(`onnx${tag}-raw-${k % 2 ? 'inf' : 'nan'}-${k}-${at}`, 'non-finite', { 'net.onnx': edited }, readCmd('net.onnx', k), 'a NaN or infinite weight in the tensor data'));
  }
  return out;
}

export function onnxCases(rng: Rng, scale: number): FuzzCase[] {
  const out: FuzzCase[] = [];
  for (const [tag, bytes] of [['32', sources().onnx32], ['64', sources().onnx64]] as const) {
    const model = decodeModel(bytes);
    // the graph is the last field the reader needs: protobuf cut inside it fails, cut before it leaves no graph
    const graphOnly = encodeModel({ ...model, opset_import: undefined, metadata_props: undefined }).length;
    for (const [i, at] of pickOffsets(range(0, graphOnly), (tag === '32' ? 25 : 10) * scale, rng).entries()) {
      out.push(badInput(`onnx${tag}-trunc-${at}`, 'truncation', { 'net.onnx': truncate(bytes, at) }, readCmd('net.onnx', i), 'cut before the graph ends'));
    }
    out.push(...onnxFlips(bytes, model, rng, tag === '32' ? scale : 1, tag));
  }
  out.push(...onnxHeaderCases());
  return out;
}

// object-level edits of the float32 model
function onnxHeaderCases(): FuzzCase[] {
  const base = (): OModel => decodeModel(sources().onnx32);
  const edit = (f: (m: OModel) => void): Uint8Array => {
    const m = base();
    f(m);
    return encodeModel(m);
  };
  const g = (m: OModel) => m.graph!;
  const node = (m: OModel, op: string, k = 0) => g(m).node!.filter((n) => n.op_type === op)[k];
  const init = (m: OModel, name: string) => {
    const t = g(m).initializer!.find((x) => x.name === name);
    if (!t) throw new Error(`no initializer ${name}: ${g(m).initializer!.map((x) => x.name)}`);
    return t;
  };
  const vi = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
  const transpose = (perm: number[]) => (m: OModel) => {
    g(m).node!.unshift({ op_type: 'Transpose', name: 'tr', input: ['input'], output: ['input_t'], attribute: [{ name: 'perm', ints: perm, type: 7 }] });
    node(m, 'Gemm').input![0] = 'input_t';
  };
  const domainMeta = (value: string) => (m: OModel) => (m.metadata_props = [{ key: 'nnshrink.domain', value }]);
  const edits: Array<[string, string, Uint8Array, string]> = [
    ['opset-0', 'header-edit', edit((m) => (m.opset_import = [{ domain: '', version: 0 }])), 'opset 0 does not exist'],
    ['opset-99', 'header-edit', edit((m) => (m.opset_import = [{ domain: '', version: 99 }])), 'opset 99 is not one nnshrink knows'],
    ['opset-none', 'header-edit', edit((m) => (m.opset_import = [])), 'ONNX requires an opset import'],
    ['opset-foreign', 'header-edit', edit((m) => (m.opset_import = [{ domain: 'com.example', version: 1 }])), 'no default-domain opset'],
    ['two-inputs', 'header-edit', edit((m) => g(m).input!.push(vi('second', [1, 5]))), 'a second graph input (nnshrink reads one)'],
    ['no-input', 'header-edit', edit((m) => (g(m).input = [])), 'no graph input'],
    ['two-outputs', 'header-edit', edit((m) => g(m).output!.push(vi('z0', [1, 24]))), 'a second graph output would be silently dropped'],
    ['no-output', 'header-edit', edit((m) => (g(m).output = [])), 'no graph output'],
    ['op-conv', 'header-edit', edit((m) => (node(m, 'Gemm').op_type = 'Conv')), 'an unsupported operator'],
    ['op-sigmoid', 'header-edit', edit((m) => (node(m, 'Relu').op_type = 'Sigmoid')), 'a non-ReLU activation'],
    ['op-empty', 'header-edit', edit((m) => (node(m, 'Relu', 1).op_type = '')), 'an empty operator type'],
    ['op-domain', 'header-edit', edit((m) => (node(m, 'Relu').domain = 'com.example')), 'an operator of a foreign domain'],
    ['transpose-perm-range', 'header-edit', edit(transpose([0, 7])), 'Transpose perm names axis 7 of a 2-d tensor'],
    ['transpose-perm-repeat', 'header-edit', edit(transpose([0, 0])), 'Transpose perm repeats an axis'],
    ['transpose-perm-length', 'header-edit', edit(transpose([1])), 'Transpose perm of the wrong length'],
    ['gemm-no-transb', 'header-edit', edit((m) => (node(m, 'Gemm').attribute = [])), 'W0 is 24x5, Gemm without transB needs 5x24'],
    ['gemm-alpha-nan', 'non-finite', edit((m) => node(m, 'Gemm').attribute!.push({ name: 'alpha', f: NaN, type: 1 })), 'Gemm alpha is NaN'],
    ['missing-tensor', 'header-edit', edit((m) => (node(m, 'Gemm', 1).input![1] = 'nowhere')), 'a node reads a tensor that does not exist'],
    ['cycle', 'header-edit', edit((m) => (node(m, 'Gemm').input![0] = node(m, 'Relu').output![0])), 'the first Gemm reads its own ReLU: a cycle, no data path'],
    ['no-nodes', 'header-edit', edit((m) => (g(m).node = [])), 'a graph with no nodes'],
    ['no-graph', 'header-edit', edit((m) => delete m.graph), 'a model with no graph'],
    ['dims-huge', 'huge-size', edit((m) => (init(m, 'W0').dims = [1e12, 5])), 'a 1e12 x 5 weight with 120 values'],
    ['input-dim-huge', 'huge-size', edit((m) => (g(m).input![0] = vi('input', [1, 1e12]))), 'an input of 1e12 values'],
    ['dims-negative', 'header-edit', edit((m) => (init(m, 'W1').dims = [24, -24])), 'a negative dimension'],
    ['dtype-99', 'header-edit', edit((m) => (init(m, 'W0').data_type = 99)), 'tensor data type 99 does not exist'],
    ['dtype-string', 'header-edit', edit((m) => (init(m, 'B0').data_type = 8)), 'a string tensor as a bias'],
    ['raw-short', 'header-edit', edit((m) => (init(m, 'W0').raw_data = init(m, 'W0').raw_data!.slice(4))), 'tensor data 4 bytes short'],
    ['raw-empty', 'header-edit', edit((m) => (init(m, 'B1').raw_data = new Uint8Array(0))), 'a tensor with no data'],
    ['domain-meta-not-json', 'header-edit', edit(domainMeta('{lo: [')), "metadata 'nnshrink.domain' is not JSON"],
    ['domain-meta-lo-above-hi', 'header-edit', edit(domainMeta('{"lo":[1,1,1,1,1],"hi":[0,0,0,0,0]}')), 'metadata domain lo > hi'],
    ['domain-meta-null', 'non-finite', edit(domainMeta('{"lo":[null,0,0,0,0],"hi":[1,1,1,1,1]}')), 'null in the metadata domain'],
    ['domain-meta-short', 'header-edit', edit(domainMeta('{"lo":[0,0,0,0],"hi":[1,1,1,1]}')), 'a metadata domain of 4 values for 5 inputs'],
    ['external-data', 'header-edit', externalData(), 'tensor data in an external file is not supported (and must say so)'],
  ];
  const out = edits.map(([name, kind, bytes, why], i) => badInput(`onnx-${name}`, kind, { 'net.onnx': bytes }, readCmd('net.onnx', i), why));
  out.push(badInput('onnx-graph-length-huge', 'byte-flip', { 'net.onnx': graphLengthHuge(sources().onnx32) }, ['info', 'net.onnx'], 'the graph claims 4 GB in a 5 kB file'));
  return out;
}

import { externalData, graphLengthHuge } from './onnx-wire.ts';
