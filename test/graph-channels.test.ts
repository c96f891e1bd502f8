/**
 * Channel removal on graphs (src/simplify/graph/channels.ts). Channels are made dead by construction (a conv filter
 * or dense row with bias -1000 or less on the input box [0,1]^n: its ReLU output is 0 everywhere) and given to
 * zeroChannels by hand. Checked against independent computation: the zero channels are 0 at every sampled point
 * (plain evaluation), the pruned graph gives bit-identical outputs (===), its constants are the original's entries
 * picked by index, and the sets that cannot go together are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mulberry32 } from '../src/model/rng.ts';
import type { Graph, GraphNode, Tensor } from '../src/model/graph/types.ts';
import { forwardAll, forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { GraphBuilder, tensor, type Rng } from './helpers/graph-build.ts';
import { channelSummary, removableChannels, removeChannels, zeroChannels, type ChannelSets } from '../src/simplify/graph/channels.ts';

const DEAD = -1000;
const nodeOf = (t: string): string => `n${t.slice(1)}`;
const node = (g: Graph, name: string): GraphNode => g.nodes.find((n) => n.name === name)!;
const param = (g: Graph, name: string, key: string): Tensor => (node(g, name).params as Record<string, Tensor>)[key];
const sets = (o: Record<string, number[]>): Map<string, number[]> => new Map(Object.entries(o));
const asObject = (s: ChannelSets): Record<string, number[]> => Object.fromEntries([...s].map(([t, c]) => [t, [...c]]));

/** the last node's bias (conv or dense) at `channels` set to `bias`: those channels are below 0 on a bounded box */
function kill(b: GraphBuilder, channels: number[], bias = DEAD): void {
  const n = b.nodes[b.nodes.length - 1] as { params: { bias: Tensor } };
  for (const c of channels) n.params.bias.data[c] = bias;
}

function points(r: Rng, n: number, count: number): Float64Array {
  return Float64Array.from({ length: n * count }, () => (r() < 0.1 ? (r() < 0.5 ? 0 : 1) : r()));
}

function assertSameOutputs(f: Graph, g: Graph, x: Float64Array, batch: number): void {
  const a = forwardGraph(f, x, batch);
  const b = forwardGraph(g, x, batch);
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) assert.fail(`output ${i}: ${a[i]} against ${b[i]} (not bit-identical)`);
}

/** every channel named zero is 0 at every point (plain evaluation, independent of the propagation rules) */
function assertZeroOnSamples(f: Graph, zero: ChannelSets, x: Float64Array, batch: number): void {
  const vals = forwardAll(f, x, batch);
  for (const [t, chs] of zero) {
    const s = f.shapes.get(t)!;
    const per = size(s) / s[0];
    const v = vals.get(t)!;
    for (let k = 0; k < batch; k++) {
      for (const c of chs) for (let e = 0; e < per; e++) assert.equal(v[k * size(s) + c * per + e], 0, `${t}[${c}] not zero`);
    }
  }
}

/** t[rows][cols] for a tensor [R, C, ...inner]: entries picked by index, no slicing code shared with the pruner */
function pick(t: Tensor, rows: number[], cols: number[] | null): number[] {
  const [R, C = 1] = t.shape;
  const inner = size(t.shape) / (R * C);
  const out: number[] = [];
  for (const r of rows) for (const c of cols ?? [0]) for (let e = 0; e < inner; e++) out.push(t.data[(r * C + c) * inner + e]);
  return out;
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

function batchnorm(b: GraphBuilder, x: string, c: number): string {
  const r = b.r;
  const pos = (): Tensor => ({ shape: [c], data: Float64Array.from({ length: c }, () => 0.5 + r()) });
  return b.add('batchnorm', [x], {}, { scale: pos(), shift: tensor(r, [c], 0.1), gamma: pos(), beta: tensor(r, [c], 0.1), mean: tensor(r, [c], 0.1), variance: pos() });
}
const maxpool = (b: GraphBuilder, x: string, k: number, s: number): string =>
  b.add('maxpool', [x], { kernel: [k, k], strides: [s, s], pads: [0, 0, 0, 0], dilations: [1, 1], ceil: false });
const avgpool = (b: GraphBuilder, x: string, k: number, s: number): string =>
  b.add('averagepool', [x], { kernel: [k, k], strides: [s, s], pads: [0, 0, 0, 0], countIncludePad: false });

/** zero -> removable -> removed, with the checks every case shares; returns the pruned graph */
function prune(f: Graph, dead: Record<string, number[]>, seed: number, count = 200): { zero: ChannelSets; removed: ChannelSets; g: Graph } {
  const zero = zeroChannels(f, sets(dead));
  const removed = removableChannels(f, zero);
  const g = removeChannels(f, removed);
  const x = points(mulberry32(seed), size(f.input.shape), count);
  assertZeroOnSamples(f, zero, x, count);
  assertSameOutputs(f, g, x, count);
  assert.deepEqual(asObject(removableChannels(f, removed)), asObject(removed), 'the removed set is a fixed point');
  assert.equal(g.input.name, f.input.name);
  assert.equal(g.output.name, f.output.name);
  assert.deepEqual(g.nodes.map((n) => [n.name, n.output]), f.nodes.map((n) => [n.name, n.output]));
  return { zero, removed, g };
}

test('conv-bn-relu-conv-relu-maxpool-flatten-dense: dead channels go with their filters, bn entries, slices and columns', () => {
  const b = new GraphBuilder(mulberry32(1));
  const t0 = b.conv('x', 2, 4);
  kill(b, [1, 3]);
  const t2 = b.add('relu', [batchnorm(b, t0, 4)]);
  const t3 = b.conv(t2, 4, 3);
  kill(b, [2]);
  const t4 = b.add('relu', [t3]);
  const t6 = b.add('reshape', [maxpool(b, t4, 2, 2)], { shape: [27] });
  const f = b.build([2, 6, 6], b.dense(t6, 27, 5));
  const { zero, removed, g } = prune(f, { [nodeOf(t2)]: [1, 3], [nodeOf(t4)]: [2] }, 11);
  const expected = { t2: [1, 3], t4: [2], t5: [2], t6: range(18, 27) };
  assert.deepEqual(asObject(zero), expected);
  assert.deepEqual(asObject(removed), expected);
  assert.deepEqual(g.shapes.get('t0'), [2, 6, 6]);
  assert.deepEqual(g.shapes.get('t3'), [2, 6, 6]);
  assert.deepEqual(g.shapes.get('t6'), [18]);
  assert.deepEqual([...param(g, 'n0', 'weight').data], pick(param(f, 'n0', 'weight'), [0, 2], range(0, 2)));
  assert.deepEqual([...param(g, 'n0', 'bias').data], pick(param(f, 'n0', 'bias'), [0, 2], null));
  for (const key of ['scale', 'shift', 'gamma', 'beta', 'mean', 'variance']) assert.deepEqual([...param(g, 'n1', key).data], pick(param(f, 'n1', key), [0, 2], null), key);
  assert.deepEqual([...param(g, 'n3', 'weight').data], pick(param(f, 'n3', 'weight'), [0, 1], [0, 2]));
  assert.deepEqual([...param(g, 'n7', 'weight').data], pick(param(f, 'n7', 'weight'), range(0, 5), range(0, 18)));
  const s = channelSummary(f, g);
  assert.deepEqual(s.nodes, [
    { node: 'n0', op: 'conv', before: 4, after: 2 },
    { node: 'n3', op: 'conv', before: 3, after: 2 },
    { node: 'n7', op: 'dense', before: 5, after: 5 },
  ]);
  // conv 4*2*9+4, bn scale+shift 8 (gamma..variance respell them), conv 3*4*9+3, dense 5*27+5
  assert.equal(s.parametersBefore, 76 + 8 + 111 + 140);
  assert.equal(s.parametersAfter, 38 + 4 + 38 + 95);
});

test('fully-connected: dead neurons (1-D channels) lose their rows and the next layer its columns', () => {
  const b = new GraphBuilder(mulberry32(2));
  const t0 = b.dense('x', 6, 8);
  kill(b, [2, 5]);
  const t1 = b.add('relu', [t0]);
  const t2 = b.dense(t1, 8, 4);
  kill(b, [0]);
  const t3 = b.add('relu', [t2]);
  const f = b.build([6], b.dense(t3, 4, 3));
  const { removed, g } = prune(f, { [nodeOf(t1)]: [2, 5], [nodeOf(t3)]: [0] }, 12);
  assert.deepEqual(asObject(removed), { t1: [2, 5], t3: [0] });
  const live = [0, 1, 3, 4, 6, 7];
  assert.deepEqual([...param(g, 'n0', 'weight').data], pick(param(f, 'n0', 'weight'), live, range(0, 6)));
  assert.deepEqual([...param(g, 'n2', 'weight').data], pick(param(f, 'n2', 'weight'), [1, 2, 3], live));
  assert.deepEqual([...param(g, 'n4', 'weight').data], pick(param(f, 'n4', 'weight'), [0, 1, 2], [1, 2, 3]));
  assert.deepEqual(channelSummary(f, g).nodes.map((n) => n.after), [6, 3, 3]);
});

test('residual add: a channel goes only where every branch adding into it is zero', () => {
  const b = new GraphBuilder(mulberry32(3));
  const a0 = b.conv('x', 2, 3);
  kill(b, [0, 2]);
  const a = b.add('relu', [a0]);
  const c0 = b.conv('x', 2, 3);
  kill(b, [0]);
  const c = b.add('relu', [c0]);
  const y = b.add('add', [a, c]);
  const f = b.build([2, 5, 5], b.conv(y, 3, 2));
  const { zero, removed, g } = prune(f, { [nodeOf(a)]: [0, 2], [nodeOf(c)]: [0] }, 13);
  assert.deepEqual(asObject(zero), { [a]: [0, 2], [c]: [0], [y]: [0] });
  assert.deepEqual(asObject(removed), { [a]: [0], [c]: [0], [y]: [0] });
  assert.deepEqual([...param(g, 'n0', 'bias').data], pick(param(f, 'n0', 'bias'), [1, 2], null));
  assert.deepEqual([...param(g, 'n2', 'bias').data], pick(param(f, 'n2', 'bias'), [1, 2], null));
  assert.deepEqual([...param(g, 'n5', 'weight').data], pick(param(f, 'n5', 'weight'), [0, 1], [1, 2]));
});

test('skip connection: a block input channel that is live keeps the block channel; dead on both sides it goes', () => {
  for (const blockInputDead of [false, true]) {
    const b = new GraphBuilder(mulberry32(4));
    const h0 = b.conv('x', 2, 3);
    if (blockInputDead) kill(b, [1]);
    const h = b.add('relu', [h0]);
    const r0 = b.conv(h, 3, 3);
    kill(b, [1]);
    const r = b.add('relu', [r0]);
    const y = b.add('add', [h, r]);
    const f = b.build([2, 5, 5], b.conv(y, 3, 2));
    const dead = blockInputDead ? { [nodeOf(h)]: [1], [nodeOf(r)]: [1] } : { [nodeOf(r)]: [1] };
    const { removed, g } = prune(f, dead, 14);
    if (!blockInputDead) {
      assert.deepEqual(asObject(removed), {});
      continue;
    }
    assert.deepEqual(asObject(removed), { [h]: [1], [r]: [1], [y]: [1] });
    // the block's conv loses its input slice 1 and its filter 1
    assert.deepEqual([...param(g, 'n2', 'weight').data], pick(param(f, 'n2', 'weight'), [0, 2], [0, 2]));
  }
});

test('concat on axis 0, pad(0) and average pooling carry the dead channels by offset; a pad\'s own channel stays', () => {
  const b = new GraphBuilder(mulberry32(5));
  const p0 = b.conv('x', 2, 3);
  kill(b, [1]);
  const p = b.add('relu', [p0]);
  const q0 = b.conv('x', 2, 2);
  kill(b, [0]);
  const q = b.add('relu', [q0]);
  const cat = b.add('concat', [p, q], { axis: 0 });
  const padded = b.add('pad', [cat], { pads: [1, 1, 1, 0, 1, 1], value: 0 });
  const pooled = avgpool(b, padded, 2, 1);
  const f = b.build([2, 5, 5], b.conv(pooled, 6, 2));
  const { zero, removed, g } = prune(f, { [nodeOf(p)]: [1], [nodeOf(q)]: [0] }, 15);
  assert.deepEqual(asObject(zero), { [p]: [1], [q]: [0], [cat]: [1, 3], [padded]: [0, 2, 4], [pooled]: [0, 2, 4] });
  assert.deepEqual(asObject(removed), { [p]: [1], [q]: [0], [cat]: [1, 3], [padded]: [2, 4], [pooled]: [2, 4] });
  assert.deepEqual(g.shapes.get(pooled), [4, 6, 6]);
  assert.deepEqual(g.shapes.get(q0), [1, 5, 5]);
  assert.deepEqual([...param(g, 'n7', 'weight').data], pick(param(f, 'n7', 'weight'), [0, 1], [0, 1, 3, 5]));
});

test('transpose: perm[0] = 0 carries channels, another perm blocks removal', () => {
  for (const perm of [[0, 2, 1], [1, 0, 2]]) {
    const b = new GraphBuilder(mulberry32(6));
    b.conv('x', 2, 3);
    kill(b, [1]);
    const t1 = b.add('relu', ['t0']);
    const t2 = b.add('transpose', [t1], { perm });
    const t3 = b.add('reshape', [t2], { shape: [48] });
    const f = b.build([2, 4, 4], b.dense(t3, 48, 2));
    const { removed, g } = prune(f, { n1: [1] }, 16);
    if (perm[0] === 0) {
      assert.deepEqual(asObject(removed), { t1: [1], t2: [1], t3: range(16, 32) });
      assert.deepEqual(g.shapes.get(t3), [32]);
    } else assert.deepEqual(asObject(removed), {});
  }
});

test('the graph output never loses channels; a grouped conv keeps what it reads and makes', () => {
  const b1 = new GraphBuilder(mulberry32(7));
  b1.conv('x', 2, 3);
  kill(b1, [1]);
  const out = b1.add('relu', ['t0']);
  const f1 = b1.build([2, 4, 4], out);
  assert.deepEqual(asObject(prune(f1, { n1: [1] }, 17).zero), { t1: [1] });
  assert.deepEqual(asObject(removableChannels(f1, zeroChannels(f1, sets({ n1: [1] })))), {});

  const b = new GraphBuilder(mulberry32(8));
  b.conv('x', 2, 4);
  kill(b, [1]);
  const t1 = b.add('relu', ['t0']);
  b.conv(t1, 4, 4, 3, { group: 2 });
  kill(b, [0]);
  const t3 = b.add('relu', ['t2']);
  const t4 = b.add('reshape', [t3], { shape: [64] });
  const f = b.build([2, 4, 4], b.dense(t4, 64, 2));
  const { zero, removed } = prune(f, { n1: [1], n3: [0] }, 18);
  assert.deepEqual(asObject(zero), { t1: [1], t3: [0], t4: range(0, 16) });
  assert.deepEqual(asObject(removed), {});
});

test('zero rules: clip min 0 and relu give zero, leakyrelu and a clip with another bound do not; shifts and mul', () => {
  const b = new GraphBuilder(mulberry32(9));
  const c0 = b.conv('x', 2, 3);
  kill(b, [0, 1, 2]);
  const relu6 = b.add('clip', [c0], { min: 0, max: 6 });
  const leaky = b.add('leakyrelu', [c0], { alpha: 0.1 });
  const clipNeg = b.add('clip', [c0], { min: -1, max: 1 });
  const shifted = b.add('affine', [relu6], {}, { scale: tensor(b.r, [3, 1, 1]), shift: { shape: [3, 1, 1], data: Float64Array.of(0, 0.5, 0) } });
  const zeroShift = { shape: [1, 4, 1], data: new Float64Array(4) }; // broadcast on axis 0, 0 everywhere
  const bcast = b.add('affine', [relu6], {}, { scale: { shape: [1, 1, 1], data: Float64Array.of(-2) }, shift: zeroShift });
  const gate = b.add('sigmoid', [b.conv('x', 2, 3)]);
  const prod = b.add('mul', [gate, shifted]);
  const flat = b.add('reshape', [prod], { shape: [3, 16] });
  const sum = b.add('add', [b.add('add', [flat, b.add('reshape', [leaky], { shape: [3, 16] })]), b.add('reshape', [clipNeg], { shape: [3, 16] })]);
  const f = b.build([2, 4, 4], b.dense(b.add('reshape', [sum], { shape: [48] }), 48, 2));
  const zero = zeroChannels(f, sets({ [nodeOf(relu6)]: [0, 1, 2], [nodeOf(leaky)]: [0, 1, 2], [nodeOf(clipNeg)]: [0, 1, 2] }));
  assert.deepEqual(asObject(zero), { [relu6]: [0, 1, 2], [shifted]: [0, 2], [bcast]: [0, 1, 2], [prod]: [0, 2], [flat]: [0, 2] });
  // the zero products are added to channels that are not zero: nothing can go
  const removed = removableChannels(f, zero);
  assert.deepEqual(asObject(removed), {});
  const x = points(mulberry32(19), 32, 50);
  assertZeroOnSamples(f, zero, x, 50);
  assert.throws(() => zeroChannels(f, sets({ [nodeOf(gate)]: [0] })), /internal/);
});

test('mul by a zero channel: the other factor\'s producer loses that filter too', () => {
  const b = new GraphBuilder(mulberry32(10));
  b.conv('x', 2, 3);
  kill(b, [1]);
  const dead = b.add('relu', ['t0']);
  const gate = b.add('sigmoid', [b.conv('x', 2, 3)]);
  const prod = b.add('mul', [gate, dead]);
  const f = b.build([2, 4, 4], b.conv(prod, 3, 2));
  const { removed, g } = prune(f, { n1: [1] }, 20);
  assert.deepEqual(asObject(removed), { [dead]: [1], [prod]: [1] });
  assert.deepEqual(g.shapes.get(gate), [2, 4, 4]);
  assert.deepEqual([...param(g, 'n2', 'bias').data], pick(param(f, 'n2', 'bias'), [0, 2], null));
});

test('a dead ReLU channel stays when its input is read by a conv too (the input is not zero)', () => {
  const b = new GraphBuilder(mulberry32(13));
  b.conv('x', 2, 3);
  kill(b, [1]);
  const r = b.add('relu', ['t0']);
  const both = b.add('concat', [b.conv(r, 3, 2), b.conv('t0', 3, 2)], { axis: 0 });
  const f = b.build([2, 4, 4], b.conv(both, 4, 2));
  const { zero, removed } = prune(f, { n1: [1] }, 21);
  // the relu could drop its channel only with its input's, which the second conv reads (not zero): both stay
  assert.deepEqual(asObject(zero), { [r]: [1] });
  assert.deepEqual(asObject(removed), {});
});

test('batchnorm after a zero channel: zero where its shift is 0, and its entries go with the channel', () => {
  const b = new GraphBuilder(mulberry32(14));
  b.conv('x', 2, 3);
  kill(b, [0, 1, 2]);
  const r = b.add('relu', ['t0']);
  const bn = b.add('batchnorm', [r], {}, { scale: tensor(b.r, [3]), shift: { shape: [3], data: Float64Array.of(0, 0.3, 0) } });
  const f = b.build([2, 4, 4], b.conv(bn, 3, 2));
  const { zero, removed, g } = prune(f, { n1: [0, 1, 2] }, 22);
  assert.deepEqual(asObject(zero), { [r]: [0, 1, 2], [bn]: [0, 2] });
  assert.deepEqual(asObject(removed), { [r]: [0, 2], [bn]: [0, 2] });
  assert.deepEqual([...param(g, 'n2', 'shift').data], [0.3]);
  assert.deepEqual([...param(g, 'n0', 'bias').data], [DEAD]);
});

test('removeChannels refuses a set that is not a fixed point', () => {
  const b = new GraphBuilder(mulberry32(11));
  b.conv('x', 2, 3);
  kill(b, [0, 2]);
  const a = b.add('relu', ['t0']);
  b.conv('x', 2, 3);
  kill(b, [0]);
  const c = b.add('relu', ['t2']);
  const y = b.add('add', [a, c]);
  const f = b.build([2, 5, 5], b.conv(y, 3, 2));
  const bad: Array<Record<string, number[]>> = [
    { [a]: [2] }, // the add carries it on from the other branch
    { [a]: [0], [c]: [0] }, // the add's output channel too, or neither
    { [a]: [0, 1, 2], [c]: [0, 1, 2], [y]: [0, 1, 2] }, // a tensor loses every channel
    { t5: [0] }, // the graph output
    { x: [0] }, // the graph input
    { [a]: [2, 0] }, // not ascending
    { [a]: [3] }, // out of range
    { nope: [0] },
  ];
  for (const s of bad) assert.throws(() => removeChannels(f, sets(s)), /^Error: internal: /, JSON.stringify(s));
  assert.doesNotThrow(() => removeChannels(f, sets({ [a]: [0], [c]: [0], [y]: [0] })));
});

/** A random small conv graph with channels dead by construction, and its dead ReLU channels. */
const block = fc.record({
  cout: fc.integer({ min: 1, max: 4 }),
  dead: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  dead2: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  bn: fc.boolean(),
  join: fc.constantFrom('none', 'branch', 'skip', 'concat'),
  pool: fc.constantFrom('none', 'max', 'avg', 'pad'),
});
type Block = { cout: number; dead: boolean[]; dead2: boolean[]; bn: boolean; join: string; pool: string };

function convRelu(b: GraphBuilder, x: string, cin: number, cout: number, deadMask: boolean[], bn: boolean, dead: Map<string, number[]>): string {
  b.conv(x, cin, cout);
  const chs = range(0, cout).filter((c) => deadMask[c]);
  kill(b, chs, -1e6);
  const pre = bn ? batchnorm(b, b.nodes[b.nodes.length - 1].output, cout) : b.nodes[b.nodes.length - 1].output;
  const out = b.add('relu', [pre]);
  if (chs.length) dead.set(nodeOf(out), chs);
  return out;
}

function randomGraph(seed: number, blocks: Block[], fcDead: boolean[]): { f: Graph; dead: Map<string, number[]> } {
  const b = new GraphBuilder(mulberry32(seed));
  const dead = new Map<string, number[]>();
  let cur = 'x';
  let [C, H, W] = [2, 4, 4];
  for (const k of blocks) {
    let y = convRelu(b, cur, C, k.cout, k.dead, k.bn, dead);
    let cout = k.cout;
    if (k.join === 'branch') y = b.add('add', [y, convRelu(b, cur, C, k.cout, k.dead2, false, dead)]);
    // a skip from the block's input (live channels, or the graph input): it keeps its channels
    if (k.join === 'skip' && C === k.cout) y = b.add('add', [cur, y]);
    if (k.join === 'concat') {
      y = b.add('concat', [y, convRelu(b, cur, C, 2, k.dead2, false, dead)], { axis: 0 });
      cout += 2;
    }
    if ((k.pool === 'max' || k.pool === 'avg') && H > 1) {
      y = k.pool === 'max' ? maxpool(b, y, 2, 1) : avgpool(b, y, 2, 1);
      H--;
      W--;
    }
    if (k.pool === 'pad') {
      // one added channel of zeros in front, a row above and a column to the right
      y = b.add('pad', [y], { pads: [1, 1, 0, 0, 0, 1], value: 0 });
      cout++;
      H++;
      W++;
    }
    cur = y;
    C = cout;
  }
  const n = C * H * W;
  b.dense(b.add('reshape', [cur], { shape: [n] }), n, 4);
  const fcChannels = range(0, 4).filter((c) => fcDead[c]);
  kill(b, fcChannels, -1e6);
  const h = b.add('relu', [b.nodes[b.nodes.length - 1].output]);
  if (fcChannels.length) dead.set(nodeOf(h), fcChannels);
  return { f: b.build([2, 4, 4], b.dense(h, 4, 2)), dead };
}

test('property: random conv graphs with dead channels keep bit-identical outputs; no zero channel left out could go', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.array(block, { minLength: 1, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (seed, blocks, fcDead) => {
      const { f, dead } = randomGraph(seed, blocks, fcDead);
      const { zero, removed, g } = prune(f, Object.fromEntries(dead), seed + 1, 30);
      for (const [t, chs] of removed) for (const c of chs) assert.ok(zero.get(t)?.includes(c), `${t}[${c}] removed but not zero`);
      assert.ok(channelSummary(f, g).parametersAfter <= channelSummary(f, g).parametersBefore);
      // maximal: adding any zero channel left out makes a set that cannot go together
      for (const [t, chs] of zero) {
        for (const c of chs) {
          if (removed.get(t)?.includes(c)) continue;
          const more = new Map(removed);
          more.set(t, [...(removed.get(t) ?? []), c].sort((p, q) => p - q));
          assert.throws(() => removeChannels(f, more), /internal/, `${t}[${c}] could go too`);
        }
      }
    }),
    { numRuns: 60, seed: 27 },
  );
});

test('nothing dead: nothing removed, the same graph', () => {
  const b = new GraphBuilder(mulberry32(12));
  const t1 = b.add('relu', [b.conv('x', 2, 3)]);
  const f = b.build([2, 4, 4], b.dense(b.add('reshape', [t1], { shape: [48] }), 48, 2));
  assert.equal(removeChannels(f, removableChannels(f, zeroChannels(f, new Map()))), f);
});
