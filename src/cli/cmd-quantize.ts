/**
 * nnshrink quantize: the options read, the library's quantizeRun (src/api/quantize.ts) called, the proved file and
 * its certificate written as one set, or exit 3 with what holds the claim back.
 */
import { fail } from '../errors.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import { DEFAULT_PATH } from '../simplify/quantize/read.ts';
import type { QuantSpec } from '../simplify/quantize/values.ts';
import type { ActTarget } from '../simplify/quantize/activations.ts';
import { quantizeRun, withoutWitness, type QuantAsk } from '../api/quantize.ts';
import { EXIT, ExitError, fmt, intOpt, numberOpt, printJson, resolveDomain, viewOpt, type CommandSpec } from './common.ts';
import { makeProgress } from './progress.ts';
import { quantizeReportFile } from './quant-report.ts';

type Values = Record<string, string | boolean | undefined>;

export const quantizeCommand: CommandSpec = {
  name: 'quantize',
  summary: 'store a network in float16 or int8 ONNX, proved within a tolerance of the original on a domain',
  usage: 'nnshrink quantize MODEL|--default --to float16|int8 [--per-channel] [--activations float32|int8|float16] [--keep-float L,..]\n' +
    '    [--domain lo,..:hi,.. | --vnnlib F]\n' +
    '    (--epsilon E | --epsilon auto | --preserve-class argmax|argmin [--margin M]) -o OUT.onnx [--certificate C]\n' +
    '    [--timeout S] [--max-boxes N] [--view raw|normalized] [--report R.html] [--json]\n' +
    '    (weights and biases as float16, each Cast to float32; int8: weights in QDQ form (int8, a float32 scale per\n' +
    '    tensor or, --per-channel, per output row, zero point 0), biases float32; --activations int8: each hidden ReLU\n' +
    '    output through QuantizeLinear / DequantizeLinear (uint8, zero point 0, one scale per layer calibrated on 10,000\n' +
    '    domain samples), float16: Cast to float16 and back (default float32: none);\n' +
    '    --keep-float: layers (from 1) kept in float32, weights and output. The claim is proved about the file read back, evaluated in\n' +
    '    float32 as onnxruntime runs it; nothing is written unless it is. --epsilon auto: bisection for the smallest\n' +
    '    E proved within --max-boxes per proof (default 2000); certificate: OUT.certificate.json unless given)',
  options: {
    default: { type: 'boolean' },
    to: { type: 'string' },
    'per-channel': { type: 'boolean' },
    'keep-float': { type: 'string' },
    activations: { type: 'string' },
    domain: { type: 'string' },
    vnnlib: { type: 'string' },
    epsilon: { type: 'string' },
    'preserve-class': { type: 'string' },
    margin: { type: 'string' },
    output: { type: 'string', short: 'o' },
    certificate: { type: 'string' },
    timeout: { type: 'string' },
    'max-boxes': { type: 'string' },
    view: { type: 'string' },
    report: { type: 'string' },
  },
  maxPositionals: 1,
  exits: '0 written (the claim proved), 3 not proved (nothing written; the layers that hold it back and a --keep-float that passes, if one does)',
  async run(values, positionals) {
    const spec = specOf(values);
    const ask = toleranceOf(values);
    const out = typeof values.output === 'string' ? values.output : fail('quantize: give the output file with -o OUT.onnx');
    if (!out.toLowerCase().endsWith('.onnx')) fail(`-o ${out}: quantize writes ONNX (a .onnx path)`);
    const certPath = typeof values.certificate === 'string' ? values.certificate : `${out}.certificate.json`;
    const inPath = inputPath(values, positionals);
    const view = viewOpt(values);
    checkOutputs([{ path: out, what: '-o', kind: 'file' }, { path: certPath, what: '--certificate', kind: 'file' }, ...(typeof values.report === 'string' ? [{ path: values.report, what: '--report', kind: 'file' as const }] : [])], inPath === DEFAULT_PATH ? [] : [{ path: inPath, what: 'MODEL' }]);
    const progress = makeProgress(!values.json);
    let r;
    try {
      r = await quantizeRun(inPath, view, (m) => resolveDomain(m, values), {
        ...spec,
        tolerance: ask,
        output: out,
        certificate: certPath,
        activations: activationsOf(values),
        timeoutMs: numberOpt(values, 'timeout', 60, 0.01) * 1000,
        maxBoxes: intOpt(values, 'max-boxes', 2000, 1),
        onProgress: (p) => progress.update(p.stage, p.done, p.total),
      });
    } finally {
      progress.done();
    }
    if ('notProved' in r) {
      const { proof, blame, message } = r.notProved;
      if (values.json) printJson({ result: 'unknown', reason: proof.reason, proof: withoutWitness(proof), blame });
      throw new ExitError(message, EXIT.unknown);
    }
    writeFilesAtomic([...r.files, ...quantizeReportFile(values.report, r.proved, certPath, inPath)]);
    const { certificate: cert, proof, auto, sizes } = r.proved;
    const tolerance = cert.tolerance;
    if (values.json) printJson({ result: 'proved', output: out, certificate: certPath, tolerance, claim: cert.claim, proof: cert.proof, auto: cert.auto, sizes });
    else {
      process.stdout.write(
        `PROVED: ${cert.claim}\n  ${spec.to}${spec.perChannel ? ' per channel' : ''}${spec.keepFloat.length ? `, layers ${cert.quantized.keepFloat.join(',')} kept float32` : ''}${cert.quantized.activations !== 'float32' ? `, activations ${cert.quantized.activations}` : ''}: ${out} ${sizes.bytes} bytes (float32: ${sizes.float32Bytes}); ` +
          `${tolerance.kind === 'linf' ? `proved |g - f| <= ${fmt(proof.provedBound)} (float32 rounding${cert.quantized.activations !== 'float32' ? ' and stored activations' : ''} ${fmt(proof.rounding)}), largest found ${fmt(proof.foundMax)}` : `class kept with g's scores known within ${fmt(proof.rounding)} (float32 rounding)`}; ${(cert.totalTimeMs / 1000).toFixed(1)} s\n` +
          (auto ? `  --epsilon auto: ${fmt(r.proved.epsilon)} proved, ${fmt(auto.lowerEnd)} not (${auto.steps.length} proofs of at most ${cert.proof.maxBoxes} boxes)\n` : '') +
          `  certificate: ${certPath}\n`,
      );
    }
    return EXIT.ok;
  },
};

function inputPath(values: Values, positionals: string[]): string {
  if (values.default) {
    if (positionals.length) fail('quantize: give either MODEL or --default, not both');
    return DEFAULT_PATH;
  }
  return positionals[0] ?? fail('quantize: missing MODEL (a .nnet, .onnx or .json file, or --default)');
}

function specOf(values: Values): QuantSpec {
  const to = values.to;
  if (to !== 'float16' && to !== 'int8') fail(`--to: ${to === undefined ? 'missing' : `'${String(to)}'`} (expected float16 or int8)`);
  if (values['per-channel'] && to !== 'int8') fail('--per-channel goes with --to int8');
  const kf = values['keep-float'];
  const keepFloat = typeof kf === 'string' ? kf.split(',').map((s) => {
    if (!/^\s*\d+\s*$/.test(s) || Number(s) < 1) fail(`--keep-float: '${s}' is not a layer number (layers count from 1)`);
    return Number(s) - 1;
  }) : [];
  return { to, perChannel: values['per-channel'] === true, keepFloat: [...new Set(keepFloat)].sort((a, b) => a - b) };
}

function toleranceOf(values: Values): QuantAsk {
  if (values.epsilon !== undefined && values['preserve-class'] !== undefined) fail('give either --epsilon or --preserve-class, not both');
  if (values.epsilon === 'auto') return { kind: 'auto' };
  if (values.epsilon !== undefined) return { kind: 'linf', epsilon: numberOpt(values, 'epsilon', 0, Number.MIN_VALUE) };
  const pc = values['preserve-class'];
  if (pc === undefined) fail('quantize: give --epsilon E, --epsilon auto or --preserve-class argmax|argmin');
  if (pc !== 'argmax' && pc !== 'argmin') fail(`--preserve-class: '${String(pc)}' (expected argmax or argmin)`);
  return { kind: 'class', order: pc, margin: numberOpt(values, 'margin', 0, 0) };
}

function activationsOf(values: Values): ActTarget {
  const a = values.activations ?? 'float32';
  if (a !== 'float32' && a !== 'int8' && a !== 'float16') fail(`--activations: '${String(a)}' (expected float32, int8 or float16)`);
  return a;
}
