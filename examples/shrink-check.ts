// nnshrink from TypeScript: a small network built by hand, saved and loaded back, bounded, its census taken, the
// reloaded copy proved equal to it, then pruned (its certificate written) and the certificate re-proved from the
// files. Compile with tsc (module NodeNext; the types come from the package's `exports`), then run the JavaScript:
// tsc --outDir out && node out/shrink-check.js.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bounds,
  census,
  checkCertificate,
  equiv,
  loadModel,
  makeBox,
  makeLayer,
  NnsError,
  prune,
  saveModel,
  type Box,
  type Checked,
  type LinfResult,
  type LoadedModel,
  type Network,
  type NetworkBounds,
  type PhaseCensus,
  type Pruned,
} from 'nnshrink';

// 2 inputs -> 3 ReLUs -> 1 output; the third ReLU's bias keeps it off on [-1, 1]^2 (|x1 + x2| <= 2 < 5)
const net: Network = {
  inputSize: 2,
  layers: [
    makeLayer(2, 3, Float64Array.from([1, -1, -1, 1, 1, 1]), Float64Array.from([0, 0, -5]), true),
    makeLayer(3, 1, Float64Array.from([1, 1, 1]), Float64Array.from([0]), false),
  ],
};
const domain: Box = makeBox([-1, -1], [1, 1]);

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-example-'));
const path = join(dir, 'small.onnx');
saveModel(net, path, { precision: 'float64', domain });
const loaded: LoadedModel = loadModel(path);

const b: NetworkBounds = (await bounds(net, domain, { method: 'crown' })).layers;
console.log(`layer 1 pre-activation bounds: ${Array.from(b[0].lo, (lo, i) => `[${lo}, ${b[0].hi[i]}]`).join(' ')}`);

const c: PhaseCensus = await census(net, domain, { timeoutMs: 5000 });
const never = c.neurons.filter((n) => n.phase === 'never').map((n) => `${n.layer}:${n.index}`);
console.log(`never active: ${never.join(', ') || 'none'}`);

const same = (await equiv(net, loaded.network, domain, { epsilon: 1e-12 })) as LinfResult;
console.log(`saved and reloaded: ${same.verdict.status}, proved max |f - g| <= ${same.provedBound}`);

// the prune: the never-active ReLU goes, the smaller file and its certificate are written together
const pruned: Pruned = await prune(loaded, { output: join(dir, 'small-pruned.onnx'), onProgress: (p) => void p.stage });
if (pruned.kind !== 'chain') throw new Error('a chain stays a chain');
console.log(`pruned: ReLUs ${pruned.summary.before.reluNeurons} -> ${pruned.summary.after.reluNeurons}, ${pruned.summary.finalCheck.claim}`);

// check trusts nothing it can recompute: the claim proved again from the two files as stored
const checked: Checked = await checkCertificate(join(dir, 'small-pruned.onnx.certificate.json'));
console.log(`check: ${checked.status} (${checked.kind})`);

try {
  loadModel(join(dir, 'missing.nnet'));
} catch (e) {
  if (!(e instanceof NnsError)) throw e;
  console.log(`NnsError ${e.code}: ${e.message}`);
}
if (same.verdict.status !== 'proved' || never.length !== 1 || checked.status !== 'proved') process.exitCode = 1;
