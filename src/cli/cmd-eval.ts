import { fail } from '../errors.ts';
import { readInputFile } from '../formats/read-text.ts';
import { forward } from '../model/network.ts';
import { containsPoint } from '../model/box.ts';
import { anyModelArg, printJson, viewOpt, type CommandSpec } from './common.ts';
import { graphEval } from './graph-eval.ts';
import { evalFamilyAt, openFamily } from './family-eval.ts';

function parseVector(s: string, where: string): number[] {
  return s.split(',').map((t, i) => {
    const v = Number(t.trim());
    if (t.trim() === '' || !Number.isFinite(v)) fail(`${where}: value ${i + 1} '${t.trim()}' is not a finite number`);
    return v;
  });
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'evaluate a model (or a slice family) on inputs',
  usage: 'nnshrink eval MODEL|FAMILY_DIR|FAMILY.onnx|--default (--input v1,v2,... | --input-file CSV) [--view raw|normalized] [--json]',
  options: { default: { type: 'boolean' }, view: { type: 'string' }, input: { type: 'string' }, 'input-file': { type: 'string' } },
  maxPositionals: 1,
  exits: '0 done',
  run(values, positionals) {
    viewOpt(values);
    const inputs: number[][] = [];
    if (typeof values.input === 'string') inputs.push(parseVector(values.input, '--input'));
    if (typeof values['input-file'] === 'string') {
      const f = values['input-file'];
      // a regular file of bounded size only (a FIFO would block, a huge file exhaust memory)
      const text = readInputFile(f).toString('utf8');
      text.split(/\r?\n/).forEach((line, i) => {
        // a first line with no number in it is a header (column names)
        if (i === 0 && line.split(',').every((t) => t.trim() === '' || !Number.isFinite(Number(t.trim())))) return;
        if (line.trim() && !line.startsWith('#')) inputs.push(parseVector(line, `${f}:${i + 1}`));
      });
    }
    if (!inputs.length) fail('eval: give --input v1,v2,... or --input-file CSV');
    const fam = positionals.length ? openFamily(positionals[0]) : null;
    if (fam) {
      const rows = inputs.map((x) => evalFamilyAt(fam, x));
      if (values.json) printJson(rows);
      else for (const r of rows) process.stdout.write(`slice ${r.slice}: ${r.output.join(', ')}\n`);
      return 0;
    }
    const any = anyModelArg(values, positionals, 'eval');
    if (any.kind === 'graph') return graphEval(any.graph, any.path, inputs, values.json === true);
    const m = any.model;
    const n = m.network.inputSize;
    const rows = inputs.map((x, i) => {
      if (x.length !== n) fail(`input ${i + 1} has ${x.length} values but ${m.path} takes ${n}`);
      const outside = m.domain ? !containsPoint(m.domain, x) : false;
      if (outside && !values.json) process.stderr.write(`nnshrink: warning: input ${i + 1} lies outside the model's domain\n`);
      return { input: x, output: Array.from(forward(m.network, Float64Array.from(x))), outsideDomain: outside };
    });
    if (values.json) printJson(rows);
    else for (const r of rows) process.stdout.write(r.output.join(', ') + '\n');
    return 0;
  },
};
