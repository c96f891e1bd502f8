import { fail } from '../errors.ts';
import { outputSize } from '../model/network.ts';
import { loadModel } from '../formats/load.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { checkClass, checkLinf } from '../verify/equiv.ts';
import { alignedPair } from '../verify/diff-pair.ts';
import { checkClassProduct, checkLinfProduct } from '../verify/equiv-product.ts';
import { winnerMargins } from '../verify/class-relu-split.ts';
import { manyInputs } from '../verify/split.ts';
import { makeProgress } from './progress.ts';
import { boundsFor, nBoxes, fmt, numberOpt, printJson, resolveDomain, type CommandSpec } from './common.ts';

export const equivCommand: CommandSpec = {
  name: 'equiv',
  summary: 'prove two networks equivalent on a domain (L-infinity within epsilon, or same class)',
  usage: 'nnshrink equiv A B [--domain lo,..:hi,.. | --vnnlib F] (--epsilon E | --same-class argmax|argmin [--margin M]) [--method diff|product] [--timeout S] [--json]\n' +
    '    (with --epsilon 0 it reports the proved max |A-B| and the largest found; --method diff: the layer-by-layer\n' +
    '    difference, for B derived from A, the same layer sizes (the default when they match); product: A and B side by\n' +
    '    side as one network, any shapes)',
  options: { domain: { type: 'string' }, vnnlib: { type: 'string' }, epsilon: { type: 'string' }, 'same-class': { type: 'string' }, margin: { type: 'string' }, method: { type: 'string' }, timeout: { type: 'string' }, view: { type: 'string' } },
  run(values, positionals) {
    if (positionals.length < 2) fail('equiv: need two models A and B');
    const view = values.view === 'normalized' ? 'normalized' : 'raw';
    const a = loadModel(positionals[0], { view });
    const b = loadModel(positionals[1], { view });
    if (a.network.inputSize !== b.network.inputSize) fail(`equiv: ${positionals[0]} takes ${a.network.inputSize} inputs, ${positionals[1]} takes ${b.network.inputSize}`);
    if (outputSize(a.network) !== outputSize(b.network)) fail(`equiv: ${positionals[0]} has ${outputSize(a.network)} outputs, ${positionals[1]} has ${outputSize(b.network)}`);
    const sizesA = a.network.layers.map((L) => L.outSize).join('x');
    const sizesB = b.network.layers.map((L) => L.outSize).join('x');
    const method = values.method ?? (sizesA === sizesB ? 'diff' : 'product');
    if (method !== 'diff' && method !== 'product') fail(`--method: '${String(method)}' (expected diff or product)`);
    if (method === 'diff' && sizesA !== sizesB) fail(`equiv --method diff: the networks must have the same layer sizes (${sizesA} vs ${sizesB}); --method product takes any`);
    const domain = resolveDomain(a, values);
    const timeoutMs = numberOpt(values, 'timeout', 60, 0.01) * 1000;
    const progress = makeProgress(!values.json);
    const t0 = Date.now();
    const opts = {
      boundsFn: boundsFor(a.network),
      outputLinearLower,
      timeoutMs,
      onProgress: (done: number, open: number) => progress.update('input splitting', 0, 0, `${done} boxes bounded, ${open} open`, (t0 + timeoutMs - Date.now()) / 1000),
    };
    const productOpts = {
      ...opts,
      onProgress: (phase: string, boxes: number, open: number, leftMs: number) =>
        progress.update(phase, 0, 0, `${boxes} boxes bounded, ${open} open`, leftMs / 1000),
    };
    const sc = values['same-class'];
    if (sc !== undefined) {
      if (sc !== 'argmax' && sc !== 'argmin') fail(`--same-class: '${String(sc)}' (expected argmax or argmin)`);
      const margin = numberOpt(values, 'margin', 0, 0);
      // many inputs: input splitting cannot settle it; A's class margins (half the time) let ReLU splitting on B
      // alone prove the class kept
      const margins =
        method === 'diff' && manyInputs(a.network.inputSize)
          ? winnerMargins(a.network, domain, sc, opts)
          : null;
      const r =
        method === 'diff'
          ? checkClass(alignedPair(a.network, b.network), domain, sc, margin, { ...opts, timeoutMs: Math.max(1, timeoutMs - (Date.now() - t0)), fLower: margins?.lower })
          : checkClassProduct(a.network, b.network, domain, sc, margin, productOpts);
      progress.done();
      const out = {
        result: r.verdict.status,
        method: r.verdict.method,
        reason: r.verdict.status === 'unknown' ? r.verdict.reason : undefined,
        witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
        boxes: r.boxes,
        timeMs: r.verdict.timeMs,
      };
      if (values.json) printJson(out);
      else process.stdout.write(`${out.result}${out.reason ? ` (${out.reason})` : ''}${out.witness ? ` (class differs at x = [${out.witness.join(', ')}])` : ''}  [${out.method}, ${nBoxes(r.boxes)}, ${(r.verdict.timeMs / 1000).toFixed(2)} s]\n`);
      return 0;
    }
    if (values.epsilon === undefined) fail('equiv: give --epsilon E or --same-class argmax|argmin');
    const eps = numberOpt(values, 'epsilon', 0, 0);
    const r =
      method === 'diff'
        ? checkLinf(alignedPair(a.network, b.network), domain, eps, { ...opts, maxBoxes: eps === 0 ? 20000 : undefined })
        : checkLinfProduct(a.network, b.network, domain, eps, productOpts);
    progress.done();
    const out = {
      result: r.verdict.status,
      method: r.verdict.method,
      reason: r.verdict.status === 'unknown' ? r.verdict.reason : undefined,
      provedMaxDiff: Number.isFinite(r.provedBound) ? r.provedBound : null,
      foundMaxDiff: r.foundMax,
      witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
      boxes: r.boxes,
      timeMs: r.verdict.timeMs,
    };
    if (values.json) printJson(out);
    else {
      process.stdout.write(
        `${eps === 0 ? 'bounded' : `${out.result}${out.reason ? ` (${out.reason})` : ''}`}: proved max |A-B| <= ${out.provedMaxDiff === null ? 'nothing' : fmt(out.provedMaxDiff)}, largest found ${fmt(out.foundMaxDiff)}` +
          `  [${out.method}, ${nBoxes(r.boxes)}, ${(r.verdict.timeMs / 1000).toFixed(2)} s]\n`,
      );
    }
    return 0;
  },
};
