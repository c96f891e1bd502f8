/**
 * VNN-LIB properties (an SMT-LIB subset). The file asserts the VIOLATION: "sat" means a counterexample exists.
 * Result: one region per input box; each region has the counterexample condition over the outputs as a DNF of
 * linear constraints coeffs . y <= rhs. Input constraints must be plain bounds on single X variables.
 */
import { fail, quote } from '../errors.ts';
import { makeBox, type Box } from '../model/box.ts';
import { readInputFile } from './read-text.ts';
import { outputSize, type Network } from '../model/network.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';

export interface LinearConstraint {
  coeffs: Float64Array;
  rhs: number;
}

export interface VnnRegion {
  box: Box;
  /** disjunction of conjunctions: the counterexample condition on the outputs */
  unsafe: LinearConstraint[][];
}

/** A VNN-LIB property: its input regions (boxes), each with the output constraints whose satisfaction is a counterexample. */
export interface VnnProperty {
  nInputs: number;
  nOutputs: number;
  regions: VnnRegion[];
}

type SExpr = { atom: string; line: number } | { list: SExpr[]; line: number };

/**
 * The deepest nesting of parentheses read. The tokenizer is iterative, but the formula walk recurses once per level;
 * real properties nest a handful of levels, and 1,000 stays far from the stack's limit (a file nested 100,000 deep
 * is refused here, not by a stack overflow).
 */
export const MAX_VNNLIB_DEPTH = 1000;

/** The most cases (conjunctions) a property's DNF may have, and constraints in all of them: a memory bound. */
const MAX_CASES = 100000;
const MAX_CASE_ATOMS = 10_000_000;

function tokenize(text: string, path: string): SExpr[] {
  const out: SExpr[] = [];
  const stack: { list: SExpr[]; line: number }[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '(') {
      if (stack.length >= MAX_VNNLIB_DEPTH) fail(`${path}:${line}: parentheses nested more than ${MAX_VNNLIB_DEPTH} deep`);
      stack.push({ list: [], line });
      i++;
    } else if (ch === ')') {
      const top = stack.pop();
      if (!top) fail(`${path}:${line}: unbalanced parentheses (a ')' closes nothing)`);
      (stack.length ? stack[stack.length - 1].list : out).push(top);
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s();]/.test(text[j])) j++;
      const atom = { atom: text.slice(i, j), line };
      (stack.length ? stack[stack.length - 1].list : out).push(atom);
      i = j;
    }
  }
  if (stack.length) fail(`${path}:${stack[stack.length - 1].line}: unbalanced parentheses ('(' never closed)`);
  return out;
}

/** A linear term over X and Y: coefficient maps plus a constant. */
interface Lin {
  x: Map<number, number>;
  y: Map<number, number>;
  c: number;
}

const isList = (e: SExpr): e is { list: SExpr[]; line: number } => 'list' in e;

/** One atomic constraint lhs <= rhs as a linear form (lhs - rhs <= 0). */
interface Atom {
  lin: Lin;
  line: number;
}

type Formula = { kind: 'atom'; atom: Atom } | { kind: 'and'; parts: Formula[] } | { kind: 'or'; parts: Formula[] };

/** A VNN-LIB property from its text; `path` names it in messages. */
export function parseVnnlib(text: string, path: string): VnnProperty {
  const exprs = tokenize(text, path);
  const xs = new Set<number>();
  const ys = new Set<number>();
  const asserts: Formula[] = [];
  const parseVar = (name: string, line: number): { kind: 'x' | 'y'; i: number } => {
    const m = /^([XY])_(\d+)$/.exec(name);
    if (!m) fail(`${path}:${line}: unknown variable or malformed token ${quote(name)}`);
    const i = Number(m[2]);
    const kind = m[1] === 'X' ? 'x' : 'y';
    if (!(kind === 'x' ? xs : ys).has(i)) fail(`${path}:${line}: variable ${name.length <= 40 ? name : quote(name)} is used before it is declared`);
    return { kind, i };
  };
  const term = (e: SExpr): Lin => {
    if (!isList(e)) {
      const v = Number(e.atom);
      if (e.atom !== '' && Number.isFinite(v) && /^[-+0-9.eE]+$/.test(e.atom)) return { x: new Map(), y: new Map(), c: v };
      const p = parseVar(e.atom, e.line);
      const l: Lin = { x: new Map(), y: new Map(), c: 0 };
      (p.kind === 'x' ? l.x : l.y).set(p.i, 1);
      return l;
    }
    const [head, ...args] = e.list;
    if (!head || isList(head)) fail(`${path}:${e.line}: expected an operator`);
    const op = head.atom;
    const parts = args.map(term);
    const add = (a: Lin, b: Lin, s: number): Lin => {
      const r: Lin = { x: new Map(a.x), y: new Map(a.y), c: a.c + s * b.c };
      b.x.forEach((v, k) => r.x.set(k, (r.x.get(k) ?? 0) + s * v));
      b.y.forEach((v, k) => r.y.set(k, (r.y.get(k) ?? 0) + s * v));
      return r;
    };
    const scale = (a: Lin, s: number): Lin => ({
      x: new Map([...a.x].map(([k, v]) => [k, v * s])),
      y: new Map([...a.y].map(([k, v]) => [k, v * s])),
      c: a.c * s,
    });
    if (op === '+') return parts.reduce((a, b) => add(a, b, 1));
    if (op === '-') return parts.length === 1 ? scale(parts[0], -1) : parts.slice(1).reduce((a, b) => add(a, b, -1), parts[0]);
    if (op === '*') {
      const consts = parts.filter((p) => p.x.size === 0 && p.y.size === 0);
      const vars = parts.filter((p) => p.x.size > 0 || p.y.size > 0);
      if (vars.length > 1) fail(`${path}:${e.line}: product of variables is not linear`);
      const k = consts.reduce((a, p) => a * p.c, 1);
      return vars.length ? scale(vars[0], k) : { x: new Map(), y: new Map(), c: k };
    }
    fail(`${path}:${e.line}: unsupported operator ${quote(op)} in a term`);
  };
  const formula = (e: SExpr): Formula => {
    if (!isList(e) || !e.list.length || isList(e.list[0])) fail(`${path}:${e.line}: expected a constraint`);
    const op = (e.list[0] as { atom: string }).atom;
    const args = e.list.slice(1);
    if (op === 'and' || op === 'or') return { kind: op, parts: args.map(formula) };
    if (op === '<=' || op === '>=' || op === '<' || op === '>') {
      if (args.length !== 2) fail(`${path}:${e.line}: ${quote(op)} needs two operands`);
      const [a, b] = args.map(term);
      // a <= b  ->  a - b <= 0 ;  a >= b  ->  b - a <= 0  (strict and non-strict coincide for these checks)
      const lhs = op === '<=' || op === '<' ? a : b;
      const rhs = op === '<=' || op === '<' ? b : a;
      const lin: Lin = { x: new Map(lhs.x), y: new Map(lhs.y), c: lhs.c - rhs.c };
      rhs.x.forEach((v, k) => lin.x.set(k, (lin.x.get(k) ?? 0) - v));
      rhs.y.forEach((v, k) => lin.y.set(k, (lin.y.get(k) ?? 0) - v));
      return { kind: 'atom', atom: { lin, line: e.line } };
    }
    fail(`${path}:${e.line}: unsupported operator ${quote(op)} in an assertion`);
  };
  for (const e of exprs) {
    if (!isList(e) || !e.list.length || isList(e.list[0])) fail(`${path}:${e.line}: expected (declare-const ...) or (assert ...)`);
    const head = (e.list[0] as { atom: string }).atom;
    if (head === 'declare-const') {
      const nm = e.list[1];
      if (!nm || isList(nm)) fail(`${path}:${e.line}: declare-const needs a name`);
      const m = /^([XY])_(\d+)$/.exec(nm.atom);
      if (!m) fail(`${path}:${e.line}: variable ${quote(nm.atom)} is not named X_i or Y_j`);
      const sort = e.list[2];
      if (e.list.length !== 3 || !sort || isList(sort) || sort.atom !== 'Real') fail(`${path}:${e.line}: variable ${nm.atom} must be declared Real`);
      (m[1] === 'X' ? xs : ys).add(Number(m[2]));
    } else if (head === 'assert') {
      if (e.list.length !== 2) fail(`${path}:${e.line}: assert takes one formula`);
      asserts.push(formula(e.list[1]));
    } else {
      fail(`${path}:${e.line}: unsupported command ${quote(head)}`);
    }
  }
  const nIn = xs.size;
  const nOut = ys.size;
  if (!nIn) fail(`${path}: no input variables X_i declared`);
  if (!nOut) fail(`${path}: no output variables Y_j declared`);
  for (let i = 0; i < nIn; i++) if (!xs.has(i)) fail(`${path}: inputs must be X_0..X_${nIn - 1} (X_${i} missing)`);
  for (let i = 0; i < nOut; i++) if (!ys.has(i)) fail(`${path}: outputs must be Y_0..Y_${nOut - 1} (Y_${i} missing)`);

  // Normalise the conjunction of assertions to DNF: a list of conjunctions of atoms.
  const dnf = (f: Formula): Atom[][] => {
    if (f.kind === 'atom') return [[f.atom]];
    const atoms = (x: Atom[][]): number => x.reduce((t, c) => t + c.length, 0);
    const tooMany = (cases: number, size: number): void => {
      if (cases > MAX_CASES || size > MAX_CASE_ATOMS) {
        fail(`${path}: the property expands to too many cases (${cases} cases of ${size} constraints; at most ${MAX_CASES} cases of ${MAX_CASE_ATOMS} constraints in all)`);
      }
    };
    if (f.kind === 'or') {
      const all: Atom[][] = [];
      let size = 0;
      for (const p of f.parts) {
        const d = dnf(p);
        size += atoms(d);
        tooMany(all.length + d.length, size);
        for (const c of d) all.push(c);
      }
      return all;
    }
    let acc: Atom[][] = [[]]; // arrays made here, so extending them in place is safe
    let accAtoms = 0;
    for (const p of f.parts) {
      const d = dnf(p);
      // sized before it is built: the cross product of two big disjunctions must not be allocated to be refused
      const size = acc.length * atoms(d) + d.length * accAtoms;
      tooMany(acc.length * d.length, size);
      accAtoms = size;
      if (d.length === 1) {
        // one case (a plain conjunct, the usual assert): append, not copy, so n asserts cost n, not n^2
        for (const a of acc) for (const x of d[0]) a.push(x);
        continue;
      }
      const next: Atom[][] = [];
      for (const a of acc) for (const b of d) next.push([...a, ...b]);
      acc = next;
    }
    return acc;
  };
  const cases = dnf({ kind: 'and', parts: asserts });
  // Group cases by their input box; output constraints form the DNF of that region.
  const regions = new Map<string, VnnRegion>();
  let empty = ''; // why the first empty case is empty, for the message when every case is
  for (const conj of cases) {
    const lo = new Array(nIn).fill(-Infinity);
    const hi = new Array(nIn).fill(Infinity);
    const loLine = new Array<number>(nIn).fill(0);
    const hiLine = new Array<number>(nIn).fill(0);
    const outs: LinearConstraint[] = [];
    for (const a of conj) {
      const { lin } = a;
      if (lin.x.size && lin.y.size) fail(`${path}:${a.line}: constraints mixing inputs and outputs are not supported`);
      if (lin.x.size) {
        if (lin.x.size !== 1) fail(`${path}:${a.line}: input constraints must bound a single X variable`);
        const [[i, coef]] = [...lin.x];
        if (coef === 0) continue;
        const bound = -lin.c / coef + 0; // coef x + c <= 0 (+ 0 turns -0 into 0)
        if (coef > 0 && bound < hi[i]) [hi[i], hiLine[i]] = [bound, a.line];
        else if (coef < 0 && bound > lo[i]) [lo[i], loLine[i]] = [bound, a.line];
      } else if (lin.y.size) {
        const coeffs = new Float64Array(nOut);
        lin.y.forEach((v, k) => (coeffs[k] = v));
        outs.push({ coeffs, rhs: -lin.c + 0 });
      } else if (lin.c > 0) {
        outs.push({ coeffs: new Float64Array(nOut), rhs: -lin.c }); // constant false
      }
    }
    for (let i = 0; i < nIn; i++) {
      if (!Number.isFinite(lo[i]) || !Number.isFinite(hi[i])) fail(`${path}: input X_${i} needs both a lower and an upper bound`);
    }
    // an empty case of a disjunction asks nothing; only a property all of whose cases are empty is refused
    const e = lo.findIndex((v, i) => v > hi[i]);
    if (e >= 0) {
      empty ||= `${path}:${Math.max(loLine[e], hiLine[e])}: X_${e} has lower bound ${lo[e]} (line ${loLine[e]}) above its upper bound ${hi[e]} (line ${hiLine[e]})`;
      continue;
    }
    const key = lo.join(',') + '|' + hi.join(',');
    const reg = regions.get(key) ?? { box: makeBox(lo, hi), unsafe: [] };
    reg.unsafe.push(outs);
    regions.set(key, reg);
  }
  if (!regions.size) fail(empty ? `${empty}: every input case is empty` : `${path}: the property has no cases (an empty 'or')`);
  return { nInputs: nIn, nOutputs: nOut, regions: [...regions.values()] };
}

/** Reads a VNN-LIB property file: its input regions and output constraints. */
export function readVnnlib(path: string): VnnProperty {
  return parseVnnlib(readInputFile(path).toString('utf8'), path);
}

/** x lies in some region's box and y satisfies one of that region's conjunctions (within tol). */
export function isCounterexample(prop: VnnProperty, x: ArrayLike<number>, y: ArrayLike<number>, tol = 1e-9): boolean {
  for (const r of prop.regions) {
    let inside = true;
    for (let i = 0; i < prop.nInputs && inside; i++) if (x[i] < r.box.lo[i] - tol || x[i] > r.box.hi[i] + tol) inside = false;
    if (!inside) continue;
    for (const conj of r.unsafe) {
      if (conj.every((c) => c.coeffs.reduce((s, v, k) => s + v * y[k], 0) <= c.rhs + tol)) return true;
    }
  }
  return false;
}

/**
 * The VNN-COMP result file: the verdict on the first line (sat, unsat, unknown, or timeout when the time limit
 * ended the search), and for sat the counterexample as ((X_0 v) (Y_0 v) ..), one variable per line, numbers in
 * full (round-trip) precision so the checker evaluates the very input that was re-checked here.
 */
export function vnncompResultText(r: { result: 'sat' | 'unsat' | 'unknown'; reason?: string; counterexample?: { x: ArrayLike<number>; y: ArrayLike<number> } }): string {
  if (r.result !== 'sat') return `${r.result === 'unknown' && r.reason === 'timeout' ? 'timeout' : r.result}\n`;
  if (!r.counterexample) throw new Error('a sat result without its counterexample');
  const vars = [
    ...Array.from(r.counterexample.x, (v, i) => `(X_${i} ${v})`),
    ...Array.from(r.counterexample.y, (v, i) => `(Y_${i} ${v})`),
  ];
  return `sat\n(${vars.join('\n ')})\n`;
}

/** One-line errors when a property does not fit the network's inputs or outputs. */
export function checkPropertyFits(net: Network, prop: VnnProperty, propPath: string): void {
  if (prop.nInputs !== net.inputSize) fail(`${propPath}: the property has ${prop.nInputs} inputs but the network has ${net.inputSize}`);
  const nOut = outputSize(net);
  if (prop.nOutputs !== nOut) fail(`${propPath}: the property has ${prop.nOutputs} outputs but the network has ${nOut}`);
}

/**
 * One-line errors when a property does not fit the graph: VNN-LIB names the inputs X_0.. over the input tensor
 * flattened row-major (C x H x W for an image) and the outputs Y_0.. over the output tensor flattened.
 */
export function checkGraphPropertyFits(g: Graph, prop: VnnProperty, propPath: string): void {
  const nIn = size(g.input.shape);
  const nOut = size(g.output.shape);
  const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;
  if (prop.nInputs !== nIn) fail(`${propPath}: the property has ${prop.nInputs} inputs but the network has ${nIn} (its input ${shape(g.input.shape)} flattened)`);
  if (prop.nOutputs !== nOut) fail(`${propPath}: the property has ${prop.nOutputs} outputs but the network has ${nOut} (its output ${shape(g.output.shape)} flattened)`);
}
