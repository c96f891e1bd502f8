import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail } from '../errors.ts';
import { readVnnlib, vnncompResultText } from '../formats/vnnlib.ts';
import { writeFileAtomic } from '../formats/atomic.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { decideProperty } from '../verify/property.ts';
import { makeProgress } from './progress.ts';
import { boundsFor, nBoxes, modelArg, numberOpt, printJson, type CommandSpec } from './common.ts';

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'decide a VNN-LIB property: sat (with a checked counterexample), unsat, or unknown',
  usage: 'nnshrink verify MODEL PROPERTY.vnnlib [--timeout S] [--results FILE] [--view raw|normalized] [--json]\n' +
    '    (--results FILE: the verdict in the VNN-COMP result format: sat / unsat / unknown / timeout, and for sat the\n' +
    '     counterexample as ((X_0 v) .. (Y_0 v) ..))',
  options: { view: { type: 'string' }, timeout: { type: 'string' }, results: { type: 'string' } },
  run(values, positionals) {
    if (positionals.length < 2) fail('verify: need MODEL and PROPERTY.vnnlib');
    const model = modelArg(values, positionals.slice(0, 1), 'verify');
    const prop = readVnnlib(positionals[1]);
    if (prop.nInputs !== model.network.inputSize) fail(`${positionals[1]}: the property has ${prop.nInputs} inputs but the network has ${model.network.inputSize}`);
    const nOut = model.network.layers[model.network.layers.length - 1].outSize;
    if (prop.nOutputs !== nOut) fail(`${positionals[1]}: the property has ${prop.nOutputs} outputs but the network has ${nOut}`);
    // a results file that cannot be written should say so now, not after the search
    if (typeof values.results === 'string' && !existsSync(dirname(resolve(values.results)))) fail(`${values.results}: cannot write (no directory ${dirname(resolve(values.results))})`);
    const progress = makeProgress(!values.json);
    const r = decideProperty(model.network, prop, {
      boundsFn: boundsFor(model.network),
      outputLinearLower,
      timeoutMs: numberOpt(values, 'timeout', 60, 0.01) * 1000,
      onProgress: (phase, boxes, open, leftMs) => progress.update(phase, 0, 0, `${boxes} boxes bounded, ${open} open`, leftMs / 1000),
    });
    progress.done();
    if (typeof values.results === 'string') writeFileAtomic(values.results, vnncompResultText(r));
    if (values.json) printJson(r);
    else {
      process.stdout.write(`${r.result}\n`);
      if (r.counterexample) process.stdout.write(`counterexample x = [${r.counterexample.x.join(', ')}]\n  y = [${r.counterexample.y.join(', ')}]\n`);
      process.stderr.write(`(${nBoxes(r.boxes)}, ${(r.timeMs / 1000).toFixed(2)} s${r.reason ? `, ${r.reason}` : ''})\n`);
    }
    return 0;
  },
};
