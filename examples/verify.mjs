// nnshrink from plain JavaScript: the embedded default network (5 inputs in [-1, 1], 3 outputs), its phase census,
// a property decided, an equivalence proved and refuted, and a prune under a time limit (an AbortSignal) that a
// progress callback can also stop. Run: node examples/verify.mjs (after npm install nnshrink).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneNetwork, census, defaultModel, equiv, evaluate, makeBox, NnsError, parseBoxSpec, parseVnnlib, prune, verify } from 'nnshrink';

const { network, domain } = defaultModel();
console.log(`default network: ${network.inputSize} inputs, layers ${network.layers.map((L) => L.outSize).join(' -> ')}`);

// which hidden ReLUs are never active (removable) or always active (linear) on the whole domain
const c = await census(network, domain, { timeoutMs: 5000 });
console.log(`census: ${c.counts.never} never active, ${c.counts.always} always active, ${c.counts.both} both, ${c.counts.unknown} unknown`);

// can output 0 exceed its value at the centre by 10 near the centre? (a VNN-LIB property: sat means yes)
const y0 = evaluate(network, new Float64Array(5))[0];
const decl = [...[0, 1, 2, 3, 4].map((i) => `(declare-const X_${i} Real)`), ...[0, 1, 2].map((j) => `(declare-const Y_${j} Real)`)];
const box = [0, 1, 2, 3, 4].flatMap((i) => [`(assert (>= X_${i} -0.05))`, `(assert (<= X_${i} 0.05))`]);
const property = parseVnnlib([...decl, ...box, `(assert (>= Y_0 ${y0 + 10}))`].join('\n'), 'near-centre.vnnlib');
const v = await verify(network, property, { timeoutMs: 10000 });
console.log(`verify: ${v.result} (${v.boxes} boxes)`);

// a copy with one output bias moved by 0.25: within 0.5 everywhere (proved), not within 0.1 (refuted, with a witness)
const moved = cloneNetwork(network);
moved.layers[moved.layers.length - 1].bias[2] += 0.25;
const near = await equiv(network, moved, domain, { epsilon: 0.5 }, { timeoutMs: 10000 });
const far = await equiv(network, moved, domain, { epsilon: 0.1 }, { timeoutMs: 10000 });
console.log(`equiv within 0.5: ${near.verdict.status}; within 0.1: ${far.verdict.status}`);

// prune on a quarter of the domain with at most 2 minutes for the whole call (an abort writes nothing); a second
// signal, the user's, is stopped from the progress callback: that call rejects with an AbortError at once
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-example-'));
const quarter = makeBox([0, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5, 0.5]);
const pruned = await prune(defaultModel(), { domain: quarter, output: join(dir, 'pruned.onnx'), signal: AbortSignal.timeout(120_000) });
const { before, after } = pruned.summary;
console.log(`prune: ReLUs ${before.reluNeurons} -> ${after.reluNeurons}, final check ${pruned.summary.finalCheck.verdict.status}`);
const user = new AbortController();
try {
  await prune(defaultModel(), { domain: quarter, output: join(dir, 'stopped.onnx'), signal: AbortSignal.any([AbortSignal.timeout(120_000), user.signal]), onProgress: () => user.abort('stopped by the user') });
} catch (e) {
  if (!(e instanceof NnsError) || e.code !== 'aborted') throw e;
  console.log(`stopped: ${e.name}, code ${e.code}`);
}

// bad input is an NnsError with a one-line message
try {
  parseBoxSpec('0,0:1,x', 2);
} catch (e) {
  if (!(e instanceof NnsError)) throw e;
  console.log(`NnsError: ${e.message}`);
}
if (v.result !== 'unsat' || near.verdict.status !== 'proved' || far.verdict.status !== 'refuted') process.exitCode = 1;
