import { fail } from '../errors.ts';
import { loadModel } from '../formats/load.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { checkClass, checkLinf } from '../verify/equiv.ts';
import { alignedPair } from '../verify/diff-pair.ts';
import { makeProgress } from './progress.ts';
import { boundsFor, nBoxes, fmt, numberOpt, printJson, resolveDomain, type CommandSpec } from './common.ts';

export const equivCommand: CommandSpec = {
  name: 'equiv',
  summary: 'prove two networks equivalent on a domain (L-infinity within epsilon, or same class)',
  usage: 'nnshrink equiv A B [--domain lo,..:hi,.. | --vnnlib F] (--epsilon E | --same-class argmax|argmin [--margin M]) [--timeout S] [--json]\n' +
    '    (A and B must have the same layer sizes; with --epsilon 0 it reports the proved max |A-B| and the largest found)',
  options: { domain: { type: 'string' }, vnnlib: { type: 'string' }, epsilon: { type: 'string' }, 'same-class': { type: 'string' }, margin: { type: 'string' }, timeout: { type: 'string' }, view: { type: 'string' } },
  run(values, positionals) {
    if (positionals.length < 2) fail('equiv: need two models A and B');
    const view = values.view === 'normalized' ? 'normalized' : 'raw';
    const a = loadModel(positionals[0], { view });
    const b = loadModel(positionals[1], { view });
    if (a.network.inputSize !== b.network.inputSize) fail(`equiv: ${positionals[0]} takes ${a.network.inputSize} inputs, ${positionals[1]} takes ${b.network.inputSize}`);
    const sizesA = a.network.layers.map((L) => L.outSize).join('x');
    const sizesB = b.network.layers.map((L) => L.outSize).join('x');
    if (sizesA !== sizesB) fail(`equiv: the networks must have the same layer sizes (${sizesA} vs ${sizesB}); a pruned network is compared with its original through 'nnshrink check CERTIFICATE'`);
    const domain = resolveDomain(a, values);
    const timeoutMs = numberOpt(values, 'timeout', 60, 0.01) * 1000;
    const pair = alignedPair(a.network, b.network);
    const progress = makeProgress(!values.json);
    const t0 = Date.now();
    const opts = {
      boundsFn: boundsFor(a.network),
      outputLinearLower,
      timeoutMs,
      onProgress: (done: number, open: number) => progress.update('input splitting', 0, 0, `${done} boxes bounded, ${open} open`, (t0 + timeoutMs - Date.now()) / 1000),
    };
    const sc = values['same-class'];
    if (sc !== undefined) {
      if (sc !== 'argmax' && sc !== 'argmin') fail(`--same-class: '${String(sc)}' (expected argmax or argmin)`);
      const r = checkClass(pair, domain, sc, numberOpt(values, 'margin', 0, 0), opts);
      progress.done();
      const out = { result: r.verdict.status, witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined, boxes: r.boxes, timeMs: r.verdict.timeMs };
      if (values.json) printJson(out);
      else process.stdout.write(`${out.result}${out.witness ? ` (class differs at x = [${out.witness.join(', ')}])` : ''}  [${nBoxes(r.boxes)}, ${(r.verdict.timeMs / 1000).toFixed(2)} s]\n`);
      return 0;
    }
    if (values.epsilon === undefined) fail('equiv: give --epsilon E or --same-class argmax|argmin');
    const eps = numberOpt(values, 'epsilon', 0, 0);
    const r = checkLinf(pair, domain, eps, { ...opts, maxBoxes: eps === 0 ? 20000 : undefined });
    progress.done();
    const out = {
      result: r.verdict.status,
      provedMaxDiff: Number.isFinite(r.provedBound) ? r.provedBound : null,
      foundMaxDiff: r.foundMax,
      witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
      boxes: r.boxes,
      timeMs: r.verdict.timeMs,
    };
    if (values.json) printJson(out);
    else {
      process.stdout.write(
        `${eps === 0 ? 'bounded' : out.result}: proved max |A-B| <= ${out.provedMaxDiff === null ? 'nothing' : fmt(out.provedMaxDiff)}, largest found ${fmt(out.foundMaxDiff)}` +
          `  [${nBoxes(r.boxes)}, ${(r.verdict.timeMs / 1000).toFixed(2)} s]\n`,
      );
    }
    return 0;
  },
};
