import { fail } from '../errors.ts';
import { formatOf, saveModel } from '../formats/load.ts';
import { hiddenLinearNeurons, linearAsReluPairs } from '../formats/nnet.ts';
import { sizeMetrics } from '../model/network.ts';
import { checkOutputs } from '../formats/atomic.ts';
import { modelArg, precisionOpt, printJson, reluPairsNote, type CommandSpec } from './common.ts';

export const convertCommand: CommandSpec = {
  name: 'convert',
  summary: 'convert a model between NNet, ONNX and nnshrink JSON',
  usage: 'nnshrink convert IN|--default OUT [--precision float32|float64] [--view raw|normalized] [--json]',
  options: { default: { type: 'boolean' }, view: { type: 'string' }, precision: { type: 'string' } },
  maxPositionals: (values) => (values.default ? 1 : 2),
  exits: '0 done',
  run(values, positionals) {
    const inPos = values.default ? [] : positionals.slice(0, 1);
    const out = values.default ? positionals[0] : positionals[1];
    if (!out) fail('convert: missing OUT path');
    const p = precisionOpt(values, 'float32');
    const m = modelArg(values, inPos, 'convert');
    // an unwritable OUT, or OUT the same file as IN, fails before anything is written
    checkOutputs([{ path: out, what: 'OUT', kind: 'file' }], inPos.map((p) => ({ path: p, what: 'IN' })));
    saveModel(m.network, out, { domain: m.domain, precision: p, inputShape: m.inputShape });
    const linear = hiddenLinearNeurons(m.network);
    const pairs = formatOf(out) === 'nnet' && linear.some((l) => l.length > 0);
    if (values.json) printJson({ input: m.path, output: out, ...sizeMetrics(pairs ? linearAsReluPairs(m.network) : m.network) });
    else process.stdout.write(`wrote ${out}${pairs ? ` (${reluPairsNote(linear)})` : ''}\n`);
    return 0;
  },
};
