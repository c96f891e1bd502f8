/**
 * The job kinds of the searches' tree steps (queue/sessions.ts, queue/steps.ts): one box of a property search's
 * input-splitting tree (equiv's product method), one box of a maximisation's. Each job carries its search's network
 * and question and one open box with its bounds, all checked as kinds.ts checks its jobs. A step has no open answer
 * (its tree needs its children): one that failed on every attempt ends the run, never proves anything.
 */
import { fail } from '../errors.ts';
import { outputSize, type Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { VnnProperty } from '../formats/vnnlib.ts';
import type { ExpandJob, SplitSetupJob } from '../verify/search/input-split.ts';
import type { MaxSetup, MaxStep, StepJob } from './steps.ts';
import { box, boxes, f64, int, list, network, networkBounds, num, obj, oneOf, optional, type Obj } from './validate.ts';

const here = (path: string): string => new URL(path, import.meta.url).href;

/** a number that is not NaN (a bound may be infinite) */
function real(v: unknown, where: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) fail(`${where}: expected a number`);
  return v;
}

function property(v: unknown, net: Network, where: string): VnnProperty {
  const o = obj(v, where);
  const m = outputSize(net);
  if (o.nInputs !== net.inputSize || o.nOutputs !== m) fail(`${where}: its sizes are not the network's`);
  list(o.regions, `${where}: regions`).forEach((r0, i) => {
    const r = obj(r0, `${where}: region ${i + 1}`);
    box(r.box, net.inputSize, `${where}: region ${i + 1}: box`);
    list(r.unsafe, `${where}: region ${i + 1}: unsafe`).forEach((conj, j) =>
      list(conj, `${where}: region ${i + 1}: conjunction ${j + 1}`).forEach((c0, l) => {
        const c = obj(c0, `${where}: region ${i + 1}: constraint ${l + 1}`);
        f64(c.coeffs, `${where}: region ${i + 1}: constraint ${l + 1}: coeffs`, m);
        if (!(c.coeffs as Float64Array).every(Number.isFinite)) fail(`${where}: region ${i + 1}: constraint ${l + 1}: coefficients must be finite`);
        num(c.rhs, `${where}: region ${i + 1}: constraint ${l + 1}: rhs`, -Number.MAX_VALUE, Number.MAX_VALUE);
      }),
    );
  });
  if (!(o.regions as unknown[]).length) fail(`${where}: no regions`);
  return o as unknown as VnnProperty;
}

function indices(v: unknown, below: number, where: string): number[] {
  return list(v, where).map((x, i) => int(x, `${where} ${i + 1}`, 0, below - 1));
}

const splitKind = {
  name: 'split-step',
  module: here('./steps.ts'),
  exportName: 'splitStep',
  accept(v: unknown): StepJob<SplitSetupJob, ExpandJob> {
    const o = obj(v, 'split step');
    const s = obj(o.setup, 'split step: setup');
    const net = network(s.net, 'split step: net');
    const prop = property(s.prop, net, 'split step: property');
    int(s.alphaSteps, 'split step: alphaSteps', 0, 10_000);
    optional(s.split, (x) => oneOf(x, 'split step: split', ['smear', 'trial'] as const));
    optional(s.splitScale, (x) => box(x, net.inputSize, 'split step: splitScale'));
    const j = obj(o.step, 'split step: step');
    const st = obj(j.strategy, 'split step: strategy');
    int(st.trialDims, 'split step: strategy: trialDims', 0, 10_000);
    oneOf(st.score, 'split step: strategy: score', ['worst', 'sum'] as const);
    optional(st.rule, (x) => oneOf(x, 'split step: strategy: rule', ['smear', 'widest'] as const));
    const it = obj(j.item, 'split step: box');
    const ri = int(it.ri, 'split step: box: region', 0, prop.regions.length - 1);
    box(it.box, net.inputSize, 'split step: box');
    networkBounds(it.fb, net, 'split step: box: bounds');
    real(it.v, 'split step: box: v');
    const open = indices(it.open, prop.regions[ri].unsafe.length, 'split step: box: open conjunction');
    const closest = list(it.closest, 'split step: box: closest');
    if (closest.length !== open.length) fail(`split step: box: ${closest.length} closest constraints for ${open.length} open conjunctions`);
    closest.forEach((c, i) => int(c, `split step: box: closest ${i + 1}`, 0, prop.regions[ri].unsafe[open[i]].length - 1));
    return o as unknown as StepJob<SplitSetupJob, ExpandJob>;
  },
};

const maxKind = {
  name: 'max-step',
  module: here('./steps.ts'),
  exportName: 'maxStep',
  accept(v: unknown): StepJob<MaxSetup, MaxStep> {
    const o = obj(v, 'max step');
    const s = obj(o.setup, 'max step: setup');
    const below = network(s.below, 'max step: network');
    const k = int(s.k, 'max step: layer', below.layers.length - 1, below.layers.length - 1);
    f64(s.c, 'max step: objective', below.layers[k].outSize);
    if (!(s.c as Float64Array).every(Number.isFinite)) fail('max step: objective: coefficients must be finite');
    num(s.d, 'max step: offset', -Number.MAX_VALUE, Number.MAX_VALUE);
    int(s.steps, 'max step: slope steps', 0, 10_000);
    const domain: Box[] = boxes(s.domain, below.inputSize, 'max step: domain box');
    optional(s.threshold, (x) => real(x, 'max step: threshold'));
    num(s.absPrec, 'max step: absPrec', 0, Number.MAX_VALUE);
    num(s.relPrec, 'max step: relPrec', 0, Number.MAX_VALUE);
    const j = obj(o.step, 'max step: step');
    oneOf(j.rule, 'max step: rule', ['trial', 'widest'] as const);
    real(j.best, 'max step: best');
    node(j.node, below, domain.length);
    return o as unknown as StepJob<MaxSetup, MaxStep>;
  },
};

function node(v: unknown, below: Network, regions: number): Obj {
  const n = obj(v, 'max step: box');
  int(n.region, 'max step: box: region', 0, regions - 1);
  box(n.box, below.inputSize, 'max step: box');
  real(n.upper, 'max step: box: upper');
  networkBounds(n.fb, below, 'max step: box: bounds');
  optional(n.centreValue, (x) => real(x, 'max step: box: centreValue'));
  return n;
}

export const SEARCH_KINDS = [splitKind, maxKind];
