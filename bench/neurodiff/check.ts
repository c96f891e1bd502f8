/**
 * Do both tools see the same two networks on the same box? nnshrink `eval --view normalized` of the files it is
 * given, against NeuroDiff's forward pass (nd_probe) of the artifact's files, at the box's centre, two corners and
 * random points of it (float32 values, so both read each point exactly). Returns the largest absolute deviation of
 * f, of g and of f - g (NeuroDiff computes in float32, nnshrink in float64: about 1e-7 is expected).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/model/rng.ts';
import { ndProbe } from './probe.ts';

export interface SameCheck { points: number; maxDevF: number; maxDevG: number; maxDevDiff: number; maxDiffSeen: number }

function nnshrinkEval(root: string, file: string, csv: string): number[][] {
  const out = execFileSync(process.execPath, ['bin/nnshrink-dev.js', 'eval', file, '--view', 'normalized', '--input-file', csv, '--json'], { cwd: root, encoding: 'utf8' });
  return (JSON.parse(out) as { output: number[] }[]).map((r) => r.output);
}

export function checkSame(root: string, probe: string, property: number, pair: { ndOrig: string; ndCopy: string; orig: string; copy: string }, count: number, seed: number, tmp: string): SameCheck {
  const box = ndProbe(probe, property, pair.ndOrig, pair.ndCopy);
  const rng = mulberry32(seed);
  const at = (t: (i: number) => number): number[] => box.lo.map((_, i) => Math.fround(t(i)));
  const pts = [at((i) => (box.lo[i] + box.hi[i]) / 2), at((i) => box.lo[i]), at((i) => box.hi[i])];
  while (pts.length < count) pts.push(at((i) => box.lo[i] + (box.hi[i] - box.lo[i]) * rng()));
  const csv = join(tmp, `points-${property}.csv`);
  writeFileSync(csv, pts.map((p) => p.join(',')).join('\n') + '\n');
  const nd = ndProbe(probe, property, pair.ndOrig, pair.ndCopy, pts);
  const f = nnshrinkEval(root, pair.orig, csv);
  const g = nnshrinkEval(root, pair.copy, csv);
  const r: SameCheck = { points: pts.length, maxDevF: 0, maxDevG: 0, maxDevDiff: 0, maxDiffSeen: 0 };
  for (let p = 0; p < pts.length; p++) {
    for (let j = 0; j < f[p].length; j++) {
      r.maxDevF = Math.max(r.maxDevF, Math.abs(f[p][j] - nd.f[p][j]));
      r.maxDevG = Math.max(r.maxDevG, Math.abs(g[p][j] - nd.g[p][j]));
      r.maxDevDiff = Math.max(r.maxDevDiff, Math.abs(f[p][j] - g[p][j] - (nd.f[p][j] - nd.g[p][j])));
      r.maxDiffSeen = Math.max(r.maxDiffSeen, Math.abs(f[p][j] - g[p][j]));
    }
  }
  return r;
}
