/**
 * The graph model's forward kernels: every operator against a naive reference written here (textbook loops over
 * multi-indices), on random shapes and attributes; then the demo PyTorch-style CNNs against onnxruntime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mulberry32 } from '../src/model/rng.ts';
import { opDef } from '../src/model/graph/registry.ts';
import type { GraphNode, Shape } from '../src/model/graph/types.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mixedCnn, pytorchCnn, MIXED_CNN_INPUT, PYTORCH_CNN_INPUT } from '../src/demo/cnn.ts';
import { ortSession } from './helpers/ort.ts';

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const randArr = (seed: number, n: number, lo = -1, hi = 1): Float64Array => {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
};
/** row-major offset of a multi-index */
const off = (s: readonly number[], i: readonly number[]): number => i.reduce((k, v, a) => k * s[a] + v, 0);
function* multi(s: readonly number[]): Generator<number[]> {
  const i = s.map(() => 0);
  for (let e = 0; e < prod(s); e++) {
    yield i.slice();
    for (let a = s.length - 1; a >= 0 && ++i[a] >= s[a]; a--) i[a] = 0;
  }
}

/** Runs one node through its operator's shape rule and kernel. */
function run(node: Omit<GraphNode, 'name' | 'inputs' | 'output'>, xs: Float64Array[], shapes: Shape[], batch: number): { y: Float64Array; shape: Shape } {
  const n = { ...node, name: 't', inputs: shapes.map((_, i) => `x${i}`), output: 'y' } as GraphNode;
  const def = opDef(n.op) as unknown as { infer: (n: GraphNode, s: Shape[]) => Shape | string; forward: (n: GraphNode, x: Float64Array[], s: Shape[], o: Shape, b: number) => Float64Array };
  const shape = def.infer(n, shapes);
  if (typeof shape === 'string') throw new Error(shape);
  return { y: def.forward(n, xs, shapes, shape, batch), shape };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `at ${i}: ${a[i]} vs ${b[i]}`);
}

const outLen = (n: number, k: number, s: number, pb: number, pe: number, d: number): number => Math.floor((n + pb + pe - d * (k - 1) - 1) / s) + 1;

test('conv equals the textbook 7-loop sum (strides, pads, dilations, groups incl. depthwise)', () => {
  const arb = fc.record({
    g: fc.integer({ min: 1, max: 3 }), cpg: fc.integer({ min: 1, max: 2 }), opg: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }), dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
    pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)), batch: fc.integer({ min: 1, max: 3 }), seed: fc.nat(),
  });
  fc.assert(fc.property(arb, (p) => {
    const C = p.g * p.cpg, O = p.g * p.opg;
    const [pt, pl, pb, pr] = p.pads;
    const OH = outLen(p.h, p.kh, p.sh, pt, pb, p.dh), OW = outLen(p.w, p.kw, p.sw, pl, pr, p.dw);
    fc.pre(OH >= 1 && OW >= 1);
    const xs = [C, p.h, p.w];
    const x = randArr(p.seed, p.batch * prod(xs));
    const wt = randArr(p.seed + 1, O * p.cpg * p.kh * p.kw);
    const bias = randArr(p.seed + 2, O);
    const node = { op: 'conv', attrs: { kernel: [p.kh, p.kw], strides: [p.sh, p.sw], pads: p.pads, dilations: [p.dh, p.dw], group: p.g }, params: { weight: { shape: [O, p.cpg, p.kh, p.kw], data: wt }, bias: { shape: [O], data: bias } } } as const;
    const { y, shape } = run(node as never, [x], [xs], p.batch);
    assert.deepEqual(shape, [O, OH, OW]);
    const ref = new Float64Array(y.length);
    for (let b = 0; b < p.batch; b++) for (let o = 0; o < O; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      let s = bias[o];
      const g = Math.floor(o / p.opg);
      for (let ic = 0; ic < p.cpg; ic++) for (let i = 0; i < p.kh; i++) for (let j = 0; j < p.kw; j++) {
        const ih = oh * p.sh - pt + i * p.dh, iw = ow * p.sw - pl + j * p.dw;
        if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
        s += wt[off([O, p.cpg, p.kh, p.kw], [o, ic, i, j])] * x[off([p.batch, C, p.h, p.w], [b, g * p.cpg + ic, ih, iw])];
      }
      ref[off([p.batch, O, OH, OW], [b, o, oh, ow])] = s;
    }
    close(y, ref);
  }), { numRuns: 150 });
});

const poolArb = fc.record({
  c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 8 }), w: fc.integer({ min: 1, max: 8 }),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
  pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)), d: fc.integer({ min: 1, max: 2 }), ceil: fc.boolean(), include: fc.boolean(),
  batch: fc.integer({ min: 1, max: 2 }), seed: fc.nat(),
});

/** PyTorch's output length with ceil_mode: rounded up, minus a last window that would start in the end padding. */
function poolLen(n: number, k: number, s: number, pb: number, pe: number, d: number, ceil: boolean): number {
  const span = n + pb + pe - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + pb) o--;
  return o;
}

type PoolCase = typeof poolArb extends fc.Arbitrary<infer T> ? T : never;

function naivePool(p: PoolCase, x: Float64Array, kind: 'max' | 'avg', d: number, ceil: boolean): { ref: Float64Array; OH: number; OW: number } {
  const [pt, pl, pb, pr] = p.pads;
  const OH = poolLen(p.h, p.kh, p.sh, pt, pb, d, ceil), OW = poolLen(p.w, p.kw, p.sw, pl, pr, d, ceil);
  if (OH < 1 || OW < 1) return { ref: new Float64Array(0), OH, OW };
  const ref = new Float64Array(p.batch * p.c * OH * OW);
  for (let b = 0; b < p.batch; b++) for (let c = 0; c < p.c; c++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let m = -Infinity, s = 0, cnt = 0;
    for (let i = 0; i < p.kh; i++) for (let j = 0; j < p.kw; j++) {
      const ih = oh * p.sh - pt + i * d, iw = ow * p.sw - pl + j * d;
      if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
      const v = x[off([p.batch, p.c, p.h, p.w], [b, c, ih, iw])];
      m = Math.max(m, v);
      s += v;
      cnt++;
    }
    ref[off([p.batch, p.c, OH, OW], [b, c, oh, ow])] = kind === 'max' ? m : s / (p.include ? p.kh * p.kw : cnt);
  }
  return { ref, OH, OW };
}

test('maxpool and averagepool equal naive window loops (pads, strides, dilation, ceil_mode, count_include_pad)', () => {
  let ran = 0;
  fc.assert(fc.property(poolArb, (p) => {
    const xs = [p.c, p.h, p.w];
    const x = randArr(p.seed, p.batch * prod(xs));
    const base = { kernel: [p.kh, p.kw], strides: [p.sh, p.sw], pads: p.pads };
    const [pt, pl, pb, pr] = p.pads;
    fc.pre(p.h + pt + pb >= p.d * (p.kh - 1) + 1 && p.w + pl + pr >= p.d * (p.kw - 1) + 1); // the window fits
    const mx = naivePool(p, x, 'max', p.d, p.ceil);
    fc.pre(mx.OH >= 1 && mx.OW >= 1 && Array.from(mx.ref).every(Number.isFinite)); // every window reads the input
    const m = run({ op: 'maxpool', attrs: { ...base, dilations: [p.d, p.d], ceil: p.ceil }, params: {} } as never, [x], [xs], p.batch);
    assert.deepEqual(m.shape, [p.c, mx.OH, mx.OW]);
    close(m.y, mx.ref);
    const av = naivePool(p, x, 'avg', 1, false);
    if (av.OH >= 1 && av.OW >= 1 && p.pads.every((v, i) => v < [p.kh, p.kw][i % 2])) {
      const a = run({ op: 'averagepool', attrs: { ...base, countIncludePad: p.include }, params: {} } as never, [x], [xs], p.batch);
      close(a.y, av.ref);
      ran++;
    }
  }), { numRuns: 200 });
  assert.ok(ran > 20, `averagepool ran on ${ran} cases only`);
});

test('dense applies W x + b on the last axis of any shape', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (xs, m, batch, seed) => {
    const n = xs[xs.length - 1];
    const x = randArr(seed, batch * prod(xs)), W = randArr(seed + 1, m * n), bias = randArr(seed + 2, m);
    const { y, shape } = run({ op: 'dense', attrs: {}, params: { weight: { shape: [m, n], data: W }, bias: { shape: [m], data: bias } } } as never, [x], [xs], batch);
    assert.deepEqual(shape, [...xs.slice(0, -1), m]);
    const rows = (batch * prod(xs)) / n;
    const ref = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) for (let i = 0; i < m; i++) {
      let s = bias[i];
      for (let j = 0; j < n; j++) s += W[i * n + j] * x[r * n + j];
      ref[r * m + i] = s;
    }
    close(y, ref);
  }), { numRuns: 100 });
});

/** A random output shape and a shape that broadcasts to it (axes kept or 1, leading axes maybe dropped). */
const bcastArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }).chain((out) =>
  fc.tuple(fc.constant(out), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), fc.nat(out.length - 1)),
);
const shrink = ([out, ones, drop]: [number[], boolean[], number]): number[] => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
/** the broadcast source index of an output multi-index, computed from the definition */
const srcOff = (src: number[], out: number[], i: number[]): number => off(src, src.map((d, a) => (d === 1 ? 0 : i[a + out.length - src.length])));

test('add, sub, mul, div broadcast two data tensors as numpy does', () => {
  const fs = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b, div: (a: number, b: number) => a / b };
  fc.assert(fc.property(bcastArb, bcastArb, fc.constantFrom('add', 'sub', 'mul', 'div'), fc.integer({ min: 1, max: 3 }), fc.nat(), (pa, pb, op, batch, seed) => {
    const out = pa[0];
    const sa = shrink(pa), sb = shrink([out, pb[1].slice(0, out.length).concat(new Array(Math.max(0, out.length - pb[1].length)).fill(true)), Math.min(pb[2], out.length - 1)]);
    const a = randArr(seed, batch * prod(sa)), b = randArr(seed + 1, batch * prod(sb), 0.5, 2);
    const { y, shape } = run({ op, attrs: {}, params: {} } as never, [a, b], [sa, sb], batch);
    const os = shape as number[];
    const ref: number[] = [];
    for (let s = 0; s < batch; s++) for (const i of multi(os)) ref.push(fs[op](a[s * prod(sa) + srcOff(sa, os, i)], b[s * prod(sb) + srcOff(sb, os, i)]));
    const r = Math.max(sa.length, sb.length);
    assert.deepEqual(os, Array.from({ length: r }, (_, k) => Math.max(sa[k - r + sa.length] ?? 1, sb[k - r + sb.length] ?? 1)));
    close(y, ref);
  }), { numRuns: 150 });
});

test('affine, prelu and batchnorm apply their broadcast constants elementwise', () => {
  fc.assert(fc.property(bcastArb, fc.integer({ min: 1, max: 3 }), fc.nat(), ([out, ones], batch, seed) => {
    const cs = out.map((d, i) => (ones[i] ? 1 : d));
    const x = randArr(seed, batch * prod(out)), s = randArr(seed + 1, prod(cs)), t = randArr(seed + 2, prod(cs));
    const aff = run({ op: 'affine', attrs: {}, params: { scale: { shape: cs, data: s }, shift: { shape: cs, data: t } } } as never, [x], [out], batch).y;
    const pre = run({ op: 'prelu', attrs: {}, params: { slope: { shape: cs, data: s } } } as never, [x], [out], batch).y;
    const C = out[0];
    const bs = randArr(seed + 3, C), bt = randArr(seed + 4, C);
    const bn = run({ op: 'batchnorm', attrs: {}, params: { scale: { shape: [C], data: bs }, shift: { shape: [C], data: bt } } } as never, [x], [out], batch).y;
    const ra: number[] = [], rp: number[] = [], rb: number[] = [];
    for (let b = 0; b < batch; b++) for (const i of multi(out)) {
      const v = x[b * prod(out) + off(out, i)], k = srcOff(cs, out, i);
      ra.push(v * s[k] + t[k]);
      rp.push(v >= 0 ? v : s[k] * v);
      rb.push(v * bs[i[0]] + bt[i[0]]);
    }
    close(aff, ra);
    close(pre, rp);
    close(bn, rb);
  }), { numRuns: 100 });
});

test('relu, leakyrelu, clip, sigmoid and tanh act elementwise', () => {
  fc.assert(fc.property(fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (v, alpha) => {
    const x = Float64Array.from(v);
    const s = [v.length];
    const go = (op: string, attrs = {}) => run({ op, attrs, params: {} } as never, [x], [s], 1).y;
    close(go('relu'), v.map((u) => Math.max(u, 0)));
    close(go('leakyrelu', { alpha }), v.map((u) => (u >= 0 ? u : alpha * u)));
    close(go('clip', { min: 0, max: 6 }), v.map((u) => Math.min(Math.max(u, 0), 6)));
    close(go('clip', { min: -Infinity, max: 1 }), v.map((u) => Math.min(u, 1)));
    close(go('sigmoid'), v.map((u) => 1 / (1 + Math.exp(-u))));
    close(go('tanh'), v.map(Math.tanh));
  }), { numRuns: 50 });
  assert.throws(() => run({ op: 'clip', attrs: { min: 2, max: 1 }, params: {} } as never, [new Float64Array(1)], [[1]], 1), /min 2 is above max 1/);
});

test('transpose, pad, concat, reshape and globalaveragepool move the values where their definitions put them', () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 });
  fc.assert(fc.property(shapeArb, fc.nat(), fc.integer({ min: 1, max: 2 }), (xs, seed, batch) => {
    const x = randArr(seed, batch * prod(xs));
    const n = prod(xs);
    const perm = xs.map((_, i) => i).sort(() => mulberry32(seed)() - 0.5).reverse();
    const t = run({ op: 'transpose', attrs: { perm }, params: {} } as never, [x], [xs], batch);
    const pads = [...xs.map((_, i) => (seed >> i) & 1), ...xs.map((_, i) => (seed >> (i + 4)) & 3)];
    const p = run({ op: 'pad', attrs: { pads, value: 0.25 }, params: {} } as never, [x], [xs], batch);
    const ax = seed % xs.length;
    const other = xs.map((d, i) => (i === ax ? d + 1 : d));
    const x2 = randArr(seed + 7, batch * prod(other));
    const c = run({ op: 'concat', attrs: { axis: ax }, params: {} } as never, [x, x2], [xs, other], batch);
    const r = run({ op: 'reshape', attrs: { shape: [n] }, params: {} } as never, [x], [xs], batch);
    assert.deepEqual(r.y, x);
    for (let b = 0; b < batch; b++) {
      for (const i of multi(t.shape)) {
        const src = new Array<number>(xs.length);
        perm.forEach((pa, k) => (src[pa] = i[k]));
        assert.equal(t.y[b * n + off(t.shape, i)], x[b * n + off(xs, src)]);
      }
      for (const i of multi(p.shape)) {
        const src = i.map((v, a) => v - pads[a]);
        const inside = src.every((v, a) => v >= 0 && v < xs[a]);
        assert.equal(p.y[b * prod(p.shape) + off(p.shape, i)], inside ? x[b * n + off(xs, src)] : 0.25);
      }
      for (const i of multi(c.shape)) {
        const first = i[ax] < xs[ax];
        const v = first ? x[b * n + off(xs, i)] : x2[b * prod(other) + off(other, i.map((u, a) => (a === ax ? u - xs[ax] : u)))];
        assert.equal(c.y[b * prod(c.shape) + off(c.shape, i)], v);
      }
    }
    if (xs.length >= 2) {
      const g = run({ op: 'globalaveragepool', attrs: {}, params: {} } as never, [x], [xs], batch);
      const inner = n / xs[0];
      const ref = Array.from({ length: batch * xs[0] }, (_, q) => x.subarray(q * inner, (q + 1) * inner).reduce((s, v) => s + v, 0) / inner);
      close(g.y, ref);
    }
  }), { numRuns: 100 });
});

test('softmax and logsoftmax normalise over one axis, or over the axes from it to the end (before opset 13)', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.boolean(), (xs, seed, toEnd) => {
    const axis = seed % xs.length;
    const x = randArr(seed, 2 * prod(xs), -5, 5);
    const sm = run({ op: 'softmax', attrs: { axis, toEnd }, params: {} } as never, [x], [xs], 2).y;
    const lsm = run({ op: 'logsoftmax', attrs: { axis, toEnd }, params: {} } as never, [x], [xs], 2).y;
    const same = (i: number[], j: number[]): boolean => i.every((v, a) => a < axis ? v === j[a] : a === axis || toEnd || v === j[a]);
    for (let b = 0; b < 2; b++) {
      const all = [...multi(xs)];
      for (const i of all) {
        const group = all.filter((j) => same(i, j));
        const z = group.reduce((s, j) => s + Math.exp(x[b * prod(xs) + off(xs, j)]), 0);
        const v = x[b * prod(xs) + off(xs, i)];
        close([sm[b * prod(xs) + off(xs, i)]], [Math.exp(v) / z]);
        close([lsm[b * prod(xs) + off(xs, i)]], [v - Math.log(z)]);
      }
    }
  }), { numRuns: 60 });
});

const DEMOS: Array<[string, Uint8Array, number[]]> = [];
for (const opset of [11, 13, 17] as const) {
  for (const flatten of ['shape-chain', 'flatten'] as const) DEMOS.push([`pytorchCnn opset ${opset} ${flatten}`, pytorchCnn({ opset, flatten, seed: opset }), PYTORCH_CNN_INPUT]);
  for (const head of ['none', 'softmax', 'logsoftmax'] as const) DEMOS.push([`mixedCnn opset ${opset} ${head}`, mixedCnn({ opset, head, seed: opset + 1 }), MIXED_CNN_INPUT]);
}

test('the demo CNNs evaluate as onnxruntime does (max abs difference below 1e-5, batch 1 and 3)', async () => {
  for (const [name, bytes, shape] of DEMOS) {
    const g = parseOnnxGraph(bytes, name);
    assert.equal(g.input.batch, 'batch');
    const ort = await ortSession(bytes);
    for (const batch of [1, 3]) {
      const x = Float32Array.from(randArr(batch * 31 + name.length, batch * prod(shape)));
      const ref = await ort(x, [batch, ...shape]);
      const y = forwardGraph(g, Float64Array.from(x), batch);
      assert.equal(y.length, ref.length, name);
      let d = 0;
      for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(y[i] - ref[i]));
      assert.ok(d < 1e-5, `${name}, batch ${batch}: max difference ${d}`);
    }
  }
});
