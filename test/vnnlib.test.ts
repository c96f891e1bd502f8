import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseVnnlib, readVnnlib, isCounterexample, vnncompResultText } from '../src/formats/vnnlib.ts';
import { NnsError } from '../src/errors.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { SKIP_SHARED, sharedPath } from './helpers/shared.ts';

test('every VNN-LIB file of ../shared/nets parses into boxes of the right size', { skip: SKIP_SHARED }, () => {
  for (const [dir, nIn, nOut] of [['acasxu', 5, 5], ['mnist', 784, 10]] as const) {
    const d = sharedPath(dir, 'vnnlib');
    for (const f of readdirSync(d).filter((x) => x.endsWith('.vnnlib'))) {
      const p = readVnnlib(join(d, f));
      assert.equal(p.nInputs, nIn, f);
      assert.equal(p.nOutputs, nOut, f);
      assert.ok(p.regions.length >= 1);
      for (const r of p.regions) {
        for (let i = 0; i < nIn; i++) assert.ok(r.box.lo[i] <= r.box.hi[i], `${f} X_${i}`);
        assert.ok(r.unsafe.length >= 1);
      }
    }
  }
});

test('ACAS Xu property 1: its box and the Y_0 >= 3.991125645861615 condition', { skip: SKIP_SHARED }, () => {
  const p = readVnnlib(sharedPath('acasxu', 'vnnlib', 'prop_1.vnnlib'));
  assert.equal(p.regions.length, 1);
  assert.deepEqual(Array.from(p.regions[0].box.lo), [0.6, -0.5, -0.5, 0.45, -0.5]);
  assert.deepEqual(Array.from(p.regions[0].box.hi), [0.679857769, 0.5, 0.5, 0.5, -0.45]);
  assert.equal(p.regions[0].unsafe.length, 1);
  const [c] = p.regions[0].unsafe[0];
  assert.deepEqual(Array.from(c.coeffs), [-1, 0, 0, 0, 0]);
  assert.equal(c.rhs, -3.991125645861615);
});

const HEAD = '(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n';

test('or-forms: output disjunctions and input disjunctions', () => {
  const p = parseVnnlib(
    HEAD + '(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (<= X_1 1))\n(assert (>= X_1 -1))\n(assert (or (and (<= Y_0 Y_1)) (and (>= Y_0 2.5e0) (<= Y_1 -1))))\n',
    't',
  );
  assert.equal(p.regions.length, 1);
  assert.equal(p.regions[0].unsafe.length, 2);
  const q = parseVnnlib(HEAD + '(assert (or (and (<= X_0 1) (>= X_0 0) (<= X_1 0) (>= X_1 -1) (<= Y_0 0)) (and (<= X_0 2) (>= X_0 1) (<= X_1 0) (>= X_1 -1) (>= Y_1 3))))\n', 't');
  assert.equal(q.regions.length, 2);
  assert.deepEqual(Array.from(q.regions[1].box.hi), [2, 0]);
});

test('isCounterexample agrees with evaluating the constraints directly', () => {
  const p = parseVnnlib(HEAD + '(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (<= X_1 1))\n(assert (>= X_1 0))\n(assert (<= (- Y_0 (* 2 Y_1)) 0.5))\n', 't');
  const rng = mulberry32(1);
  for (let i = 0; i < 1000; i++) {
    const x = [rng() * 1.2 - 0.1, rng()];
    const y = [rng() * 4 - 2, rng() * 4 - 2];
    const want = x[0] >= 0 && x[0] <= 1 && y[0] - 2 * y[1] <= 0.5;
    assert.equal(isCounterexample(p, x, y, 0), want);
  }
});

for (const [name, text, pattern] of [
  ['unbalanced', HEAD + '(assert (<= X_0 1)\n', /t:5: unbalanced parentheses/],
  ['unknown var', HEAD + '(assert (<= X_7 1))\n', /t:5: variable X_7 is used before it is declared/],
  ['operator', HEAD + '(assert (distinct X_0 1))\n', /t:5: unsupported operator 'distinct'/],
  ['missing bound', HEAD + '(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (<= X_1 1))\n(assert (<= Y_0 0))\n', /input X_1 needs both a lower and an upper bound/],
  ['empty', HEAD + '(assert (<= X_0 0))\n(assert (>= X_0 1))\n(assert (<= X_1 1))\n(assert (>= X_1 0))\n(assert (<= Y_0 0))\n', /every input case is empty/],
  ['mixed', HEAD + '(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (<= X_1 1))\n(assert (>= X_1 0))\n(assert (<= X_0 Y_0))\n', /t:9: constraints mixing inputs and outputs/],
] as const) {
  test(`malformed VNN-LIB: ${name}`, () => {
    assert.throws(() => parseVnnlib(text, 't'), (e: unknown) => e instanceof NnsError && pattern.test(e.message) && !e.message.includes('\n'));
  });
}

test('VNN-COMP result text: a time-out is "timeout", other unknowns "unknown", sat lists every variable', () => {
  assert.equal(vnncompResultText({ result: 'unknown', reason: 'timeout' }), 'timeout\n');
  assert.equal(vnncompResultText({ result: 'unknown', reason: 'bounds too loose and no MILP solver loaded' }), 'unknown\n');
  assert.equal(vnncompResultText({ result: 'unsat' }), 'unsat\n');
  const t = vnncompResultText({ result: 'sat', counterexample: { x: [0.1, -2e-17], y: [1 / 3] } });
  assert.equal(t, 'sat\n((X_0 0.1)\n (X_1 -2e-17)\n (Y_0 0.3333333333333333))\n');
});
