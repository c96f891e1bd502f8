/**
 * `check` of a graph prune's certificate: the two files it names are read as stored (their bytes must be the ones
 * the certificate hashed), and its claim is proved about them afresh: exact (src/simplify/graph/check.ts), the stored
 * network must be the original without the listed channels, and a new census must prove every one of them zero on
 * the domain; linf (eps-check.ts), the same about the original with the certificate's kills, and that one proved
 * within epsilon of the original; class (class-check.ts), both networks' leads. Sampled points refute.
 */
import { fail } from '../errors.ts';
import { readInputFile } from '../formats/read-text.ts';
import { parseOnnxGraph } from '../formats/onnx-graph/read.ts';
import { pathFromCertificate } from '../simplify/certificate.ts';
import { graphCertificateKills, graphCertificateParts, sha256Of, validateGraphCertificate, type GraphCertificate, type GraphFinalCheck } from '../simplify/graph/certificate.ts';
import { checkGraphPrune } from '../simplify/graph/check.ts';
import { checkGraphClassPrune } from '../simplify/graph/class-check.ts';
import { checkGraphEpsPrune, type GraphEpsCheckResult } from '../simplify/graph/eps-check.ts';
import { graphVacuity } from '../simplify/graph/eps-vacuity.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { GRAPH_CHECK_SAMPLES } from './prune-graph.ts';

const CHECK_SEED = 4242;

function readStored(certPath: string, p: string, sha256: string, what: string): ReturnType<typeof parseOnnxGraph> {
  const file = pathFromCertificate(certPath, p);
  const buf = readInputFile(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (sha256Of(bytes) !== sha256) fail(`${file}: the ${what} differs from the one the certificate was made for (sha256 mismatch)`);
  return parseOnnxGraph(bytes, file);
}

/** exact: the structure and a fresh census; linf: those about f padded with the kills, and its distance to f;
 * class: both networks' leads proved afresh, no structure assumed. */
export async function checkGraphCertificate(
  obj: unknown,
  certPath: string,
  timeoutMs: number,
  onProgress: (stage: string, done: number, total: number) => void,
): Promise<{ cert: GraphCertificate; result: GraphFinalCheck | (GraphEpsCheckResult & { vacuous?: string }) }> {
  const cert = validateGraphCertificate(obj, certPath);
  const f = readStored(certPath, cert.input.path, cert.input.sha256, 'original');
  const g = readStored(certPath, cert.output.path, cert.output.sha256, 'pruned network');
  const { domain, removed } = graphCertificateParts(cert, f, certPath);
  const o = { timeoutMs, samples: GRAPH_CHECK_SAMPLES, seed: CHECK_SEED, onProgress };
  const t = cert.tolerance;
  const facts = new Set((cert.facts ?? []).map((x) => x.node));
  if (t.kind === 'linf') {
    const kills = graphCertificateKills(cert, f, certPath);
    await loadMilpSolver();
    const r = checkGraphEpsPrune(f, g, kills, removed, domain, t.epsilon, o, facts);
    const vacuous = graphVacuity(f, domain, t.epsilon);
    return { cert, result: vacuous ? { ...r, vacuous } : r };
  }
  if (t.kind === 'class') {
    await loadMilpSolver();
    return { cert, result: checkGraphClassPrune(f, g, domain, t.order, t.margin, o) };
  }
  return { cert, result: checkGraphPrune(f, g, removed, domain, o, facts) };
}
