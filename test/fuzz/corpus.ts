/**
 * The whole corpus, made deterministically from one seed: the same cases, bytes and names on every run and machine.
 * `scale` multiplies the number of truncations and byte replacements (1: about 530 cases, 2: about 740, 3: about 950).
 * The CI sample is fixed too: every tampered certificate and family, and the first cases of each kind in a seeded
 * order.
 */
import { makeRng } from './bytes.ts';
import { jsonCases, nnetCases, onnxCases } from './cases-models.ts';
import { instanceCases, vnnlibCases } from './cases-text.ts';
import { optionCases, outputPathCases, specialFileCases } from './cases-misc.ts';
import { tamperCases } from './cases-certs.ts';
import type { Artifacts } from './artifacts.ts';
import type { FuzzCase } from './types.ts';

export const SEED = 25;

export function buildCorpus(artifacts: Artifacts, scale = 2, seed = SEED): FuzzCase[] {
  const rng = makeRng(seed);
  const cases = [
    ...tamperCases(artifacts),
    ...nnetCases(rng, scale),
    ...jsonCases(rng, scale),
    ...onnxCases(rng, scale),
    ...vnnlibCases(rng, scale),
    ...instanceCases(rng, scale),
    ...specialFileCases(),
    ...optionCases(),
    ...outputPathCases(),
  ];
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`fuzz corpus: two cases named ${c.name}`);
    seen.add(c.name);
  }
  return cases;
}

/** Tampered certificates and families: run every time, all of them. */
export const isTamper = (c: FuzzCase): boolean => c.name.startsWith('cert-') || c.name.startsWith('family-');

/** All tampering cases, and up to `perKind` others of each kind (of each format's truncations and flips). */
export function ciSample(cases: FuzzCase[], perKind = 2, seed = SEED): FuzzCase[] {
  const rng = makeRng(seed + 1);
  const groups = new Map<string, FuzzCase[]>();
  for (const c of cases.filter((x) => !isTamper(x))) {
    const key = `${c.kind}:${c.name.split('-')[0]}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const picked: FuzzCase[] = [];
  for (const g of groups.values()) {
    const order = g.map((c) => [rng.next(), c] as const).sort((a, b) => a[0] - b[0]);
    picked.push(...order.slice(0, perKind).map(([, c]) => c));
  }
  return [...cases.filter(isTamper), ...picked];
}
