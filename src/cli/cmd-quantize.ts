/**
 * nnshrink quantize: a fully-connected network stored in float16 or int8 (weights; activations stay float32), the
 * file written only when its claim is proved about the network read back from the bytes to be written.
 */
import { dirname, relative, resolve } from 'node:path';
import { fail } from '../errors.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import { parseOnnx } from '../formats/onnx-read.ts';
import { onnxBytes } from '../formats/onnx-write.ts';
import { quantOnnxBytes } from '../formats/onnx-quant-write.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import type { Network } from '../model/network.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { sha256Of } from '../simplify/graph/certificate.ts';
import { claimText, domainToJSON, QUANT_CERTIFICATE_FORMAT, type QuantCertificate, type QuantTolerance } from '../simplify/quantize/certificate.ts';
import { autoEpsilon, proveQuantized, proveQuantizedClass, type AutoEpsilon, type ProveOptions, type QuantProof } from '../simplify/quantize/prove.ts';
import { blameLayers } from '../simplify/quantize/blame.ts';
import { DEFAULT_PATH, readChain } from '../simplify/quantize/read.ts';
import { storeNetwork, storedNetwork, type QuantSpec } from '../simplify/quantize/values.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { boundsFor, EXIT, ExitError, fmt, intOpt, numberOpt, printJson, resolveDomain, viewOpt, type CommandSpec } from './common.ts';
import { makeProgress } from './progress.ts';
import { VERSION } from './version.ts';

type Values = Record<string, string | boolean | undefined>;

export const quantizeCommand: CommandSpec = {
  name: 'quantize',
  summary: 'store a network in float16 or int8 ONNX, proved within a tolerance of the original on a domain',
  usage: 'nnshrink quantize MODEL|--default --to float16|int8 [--per-channel] [--keep-float L,..] [--domain lo,..:hi,.. | --vnnlib F]\n' +
    '    (--epsilon E | --epsilon auto | --preserve-class argmax|argmin [--margin M]) -o OUT.onnx [--certificate C]\n' +
    '    [--timeout S] [--max-boxes N] [--view raw|normalized] [--json]\n' +
    '    (weights and biases as float16, each Cast to float32; int8: weights in QDQ form (int8, a float32 scale per\n' +
    '    tensor or, --per-channel, per output row, zero point 0), biases float32; activations stay float32;\n' +
    '    --keep-float: layers (from 1) kept in float32. The claim is proved about the file read back, evaluated in\n' +
    '    float32 as onnxruntime runs it; nothing is written unless it is. --epsilon auto: bisection for the smallest\n' +
    '    E proved within --max-boxes per proof (default 2000); certificate: OUT.certificate.json unless given)',
  options: {
    default: { type: 'boolean' },
    to: { type: 'string' },
    'per-channel': { type: 'boolean' },
    'keep-float': { type: 'string' },
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
    checkOutputs([{ path: out, what: '-o', kind: 'file' }, { path: certPath, what: '--certificate', kind: 'file' }], inPath === DEFAULT_PATH ? [] : [{ path: inPath, what: 'MODEL' }]);
    const { model, sha256 } = readChain(inPath, view);
    const f = model.network;
    const domain = resolveDomain(model, values);
    await loadMilpSolver();
    const opts: ProveOptions = { boundsFn: boundsFor(f), outputLinearLower, timeoutMs: numberOpt(values, 'timeout', 60, 0.01) * 1000, maxBoxes: intOpt(values, 'max-boxes', 2000, 1), seed: 1 };
    const t0 = Date.now();
    const progress = makeProgress(!values.json);
    progress.update(`quantize: ${spec.to}`, 0, 0);
    const written = writtenFile(model, spec, domain, out);
    const answer = proveAsked(f, written.g, domain, ask, opts);
    progress.done();
    if (answer.proof.status !== 'proved') return notProved(f, spec, domain, ask, answer.proof, opts, values.json === true);
    const tolerance: QuantTolerance = ask.kind === 'auto' ? { kind: 'linf', epsilon: answer.epsilon } : ask;
    const cert: QuantCertificate = {
      format: QUANT_CERTIFICATE_FORMAT,
      version: 1,
      tool: `nnshrink ${VERSION}`,
      createdAt: new Date().toISOString(),
      input: { path: inPath === DEFAULT_PATH ? inPath : relative(dirname(resolve(certPath)), resolve(inPath)), sha256, ...(model.format === 'nnet' ? { view } : {}) },
      output: { path: relative(dirname(resolve(certPath)), resolve(out)), sha256: sha256Of(written.bytes) },
      domain: domainToJSON(domain),
      tolerance,
      claim: claimText(tolerance),
      quantized: { to: spec.to, perChannel: spec.perChannel, keepFloat: spec.keepFloat.map((k) => k + 1), activations: 'float32' },
      proof: { ...withoutWitness(answer.proof), method: 'quantized diff', maxBoxes: opts.maxBoxes },
      ...(answer.auto ? { auto: { lowerEnd: answer.auto.lowerEnd, lowerTried: answer.auto.lowerTried, steps: answer.auto.steps } } : {}),
      totalTimeMs: Date.now() - t0,
    };
    writeFilesAtomic([{ path: out, data: written.bytes }, { path: certPath, data: JSON.stringify(cert, null, 1) + '\n' }]);
    const sizes = { float32Bytes: written.float32Bytes, bytes: written.bytes.length };
    if (values.json) printJson({ result: 'proved', output: out, certificate: certPath, tolerance, claim: cert.claim, proof: cert.proof, auto: cert.auto, sizes });
    else {
      process.stdout.write(
        `PROVED: ${cert.claim}\n  ${spec.to}${spec.perChannel ? ' per channel' : ''}${spec.keepFloat.length ? `, layers ${cert.quantized.keepFloat.join(',')} kept float32` : ''}: ${out} ${sizes.bytes} bytes (float32: ${sizes.float32Bytes}); ` +
          `${tolerance.kind === 'linf' ? `proved |g - f| <= ${fmt(answer.proof.provedBound)} (float32 rounding ${fmt(answer.proof.rounding)}), largest found ${fmt(answer.proof.foundMax)}` : `class kept with g's scores known within ${fmt(answer.proof.rounding)} (float32 rounding)`}; ${(cert.totalTimeMs / 1000).toFixed(1)} s\n` +
          (answer.auto ? `  --epsilon auto: ${fmt(answer.epsilon)} proved, ${fmt(answer.auto.lowerEnd)} not (${answer.auto.steps.length} proofs of at most ${opts.maxBoxes} boxes)\n` : '') +
          `  certificate: ${certPath}\n`,
      );
    }
    return EXIT.ok;
  },
};

const withoutWitness = (p: QuantProof): Omit<QuantProof, 'witness'> => {
  const { witness: _w, ...rest } = p;
  return rest;
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

type Ask = QuantTolerance | { kind: 'auto' };

function toleranceOf(values: Values): Ask {
  if (values.epsilon !== undefined && values['preserve-class'] !== undefined) fail('give either --epsilon or --preserve-class, not both');
  if (values.epsilon === 'auto') return { kind: 'auto' };
  if (values.epsilon !== undefined) return { kind: 'linf', epsilon: numberOpt(values, 'epsilon', 0, Number.MIN_VALUE) };
  const pc = values['preserve-class'];
  if (pc === undefined) fail('quantize: give --epsilon E, --epsilon auto or --preserve-class argmax|argmin');
  if (pc !== 'argmax' && pc !== 'argmin') fail(`--preserve-class: '${String(pc)}' (expected argmax or argmin)`);
  return { kind: 'class', order: pc, margin: numberOpt(values, 'margin', 0, 0) };
}

/** The bytes to write and the network read back from them (what the proof is about), bit for bit what was meant. */
function writtenFile(model: LoadedModel, spec: QuantSpec, domain: Box[], out: string): { bytes: Uint8Array; g: Network; float32Bytes: number } {
  const f = model.network;
  const stored = storeNetwork(f, spec);
  const save = { domain: domain.length === 1 ? domain[0] : undefined, inputShape: model.inputShape, source: model.onnx };
  const bytes = quantOnnxBytes(f, stored, save, { to: spec.to, perChannel: spec.perChannel, keepFloat: spec.keepFloat.map((k) => k + 1) });
  const g = parseOnnx(bytes, out).network;
  const meant = storedNetwork(f, stored);
  const same = g.layers.every((L, k) => L.weights.every((w, i) => Object.is(w, meant.layers[k].weights[i])) && L.bias.every((b, i) => Object.is(b, meant.layers[k].bias[i])));
  if (!same) throw new Error('the quantised file does not read back as the stored numbers');
  return { bytes, g, float32Bytes: onnxBytes(f, { ...save, precision: 'float32' }).length };
}

function proveAsked(f: Network, g: Network, domain: Box[], ask: Ask, opts: ProveOptions): { proof: QuantProof; epsilon: number; auto?: AutoEpsilon } {
  if (ask.kind === 'class') return { proof: proveQuantizedClass(f, g, domain, ask.order, ask.margin, opts), epsilon: 0 };
  if (ask.kind === 'linf') return { proof: proveQuantized(f, g, domain, ask.epsilon, opts), epsilon: ask.epsilon };
  const auto = autoEpsilon(f, g, domain, opts);
  if ('failed' in auto) return { proof: auto.failed, epsilon: 0 };
  return { proof: auto.proof, epsilon: auto.epsilon, auto };
}

/** Exit 3 with what holds the claim back: each layer's bound when it alone stays float32, and a mixed choice. */
function notProved(f: Network, spec: QuantSpec, domain: Box[], ask: Ask, proof: QuantProof, opts: ProveOptions, json: boolean): never {
  const blame = ask.kind === 'auto' ? null : blameLayers(f, spec, domain, ask, opts);
  const layers = blame?.perLayer.map((p) => `layer ${p.layer + 1} float32: ${ask.kind === 'class' ? p.status : Number.isFinite(p.provedBound) ? `<= ${fmt(p.provedBound)}` : 'nothing proved'}`).join(', ');
  const mixed = blame?.mixed ? `--keep-float ${blame.mixed.map((k) => k + 1).join(',')} passes` : 'no mixed choice passes';
  const line = `not proved (${proof.reason ?? proof.status}); nothing written` + (blame ? `; ${layers}; ${mixed}` : '');
  if (json) printJson({ result: 'unknown', reason: proof.reason, proof: withoutWitness(proof), blame });
  throw new ExitError(line, EXIT.unknown);
}
