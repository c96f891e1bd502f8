/**
 * A slice family on disk: a directory with family.json (root box, split tree, per-slice box, network file, sizes,
 * certificate file) and one network + certificate per slice. Written to a temporary sibling directory and renamed
 * into place, so a failed run never leaves half a family.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFilesAtomic, type Output } from '../formats/atomic.ts';
import { fail, NnsError } from '../errors.ts';
import { readInputFile } from '../formats/read-text.ts';
import { leafBoxes } from './partition.ts';
import type { SizeMetrics } from '../model/network.ts';
import { boxFromJSON, boxToJSON, type Box } from '../model/box.ts';
import type { SplitTree } from './partition.ts';

/** Whether `p` is a slice family's directory (it holds a family.json). */
export function isFamilyDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory() && existsSync(join(p, 'family.json'));
}

/** A family is written over nothing or over an earlier family, never over another directory. */
export function checkFamilyTarget(out: string): void {
  if (existsSync(out) && statSync(out).isDirectory() && !existsSync(join(out, 'family.json'))) fail(`-o ${out}: exists and is not a slice family; not overwriting it`);
}

export const FAMILY_FORMAT = 'nnshrink-family';

export interface FamilySliceEntry {
  box: { lo: number[]; hi: number[] };
  network: string;
  certificate: string;
  sizes: SizeMetrics;
  /** the pruned slice failed its final check; the original network serves this box (why) */
  fallback?: string;
}

export interface FamilyManifest {
  format: typeof FAMILY_FORMAT;
  version: 1;
  source: { path: string; sha256: string; sizes: SizeMetrics };
  tolerance: unknown;
  strategy: string;
  root: { lo: number[]; hi: number[] };
  /** a domain of several boxes: root is their hull, and an input in none of them is refused */
  regions?: Array<{ lo: number[]; hi: number[] }>;
  tree: SplitTree;
  slices: FamilySliceEntry[];
  check: Record<string, unknown>;
}

export interface SliceFiles {
  networkText: string;
  certificateText: string;
}

/**
 * Writes the family directory atomically (temp dir + rename; an existing family at `dir` is replaced), as one set
 * with `extra` outputs (the single ONNX file): on any failure none of them is left.
 */
export function writeFamily(dir: string, manifest: FamilyManifest, files: SliceFiles[], extra: Output[] = []): void {
  if (existsSync(dir) && !existsSync(join(dir, 'family.json'))) fail(`${dir}: exists and is not a slice family; not overwriting it`);
  const entries = manifest.slices.flatMap((s, i) => [
    { name: s.network, data: files[i].networkText },
    { name: s.certificate, data: files[i].certificateText },
  ]);
  entries.push({ name: 'family.json', data: JSON.stringify(manifest, null, 1) + '\n' });
  writeFilesAtomic([{ path: dir, files: entries }, ...extra]);
}

export interface LoadedFamily {
  dir: string;
  manifest: FamilyManifest;
  root: Box;
  regions?: Box[];
  /** per slice, the box the split tree sends it (equal to the manifest's, which readFamily checks) */
  leaves: Box[];
  /** networks are loaded lazily by the caller through `networkPath` */
  networkPath: (i: number) => string;
}

/** The deepest split tree read (a tree deeper than this many cuts is refused rather than recursed into). */
const MAX_TREE_DEPTH = 10_000;

function checkTree(t: SplitTree, n: number, count: number, where: string, seen: Set<number>, depth: number): void {
  if (!t || typeof t !== 'object') fail(`${where}: split tree has a node that is not an object`);
  if (depth > MAX_TREE_DEPTH) fail(`${where}: split tree is deeper than ${MAX_TREE_DEPTH}`);
  if ('leaf' in t) {
    if (!Number.isInteger(t.leaf) || t.leaf < 0 || t.leaf >= count || seen.has(t.leaf)) fail(`${where}: split tree has a bad leaf index ${t.leaf}`);
    seen.add(t.leaf);
    return;
  }
  if (!Number.isInteger(t.dim) || t.dim < 0 || t.dim >= n || !Number.isFinite(t.at)) fail(`${where}: split tree has a bad node`);
  checkTree(t.left, n, count, where, seen, depth + 1);
  checkTree(t.right, n, count, where, seen, depth + 1);
}

export function readFamily(dir: string): LoadedFamily {
  const mf = join(dir, 'family.json');
  if (!existsSync(mf)) fail(`${dir}: not a slice family (no family.json)`);
  let m: FamilyManifest;
  try {
    m = JSON.parse(readInputFile(mf).toString('utf8'));
  } catch (e) {
    if (e instanceof NnsError) throw e;
    fail(`${mf}: not valid JSON (${(e as Error).message})`);
  }
  if (!m || m.format !== FAMILY_FORMAT || m.version !== 1) fail(`${mf}: not an nnshrink family manifest (version 1)`);
  if (!m.root || !Array.isArray(m.slices) || !m.slices.length || !m.tree) fail(`${mf}: manifest lacks root, tree or slices`);
  if (!m.source || typeof m.source.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.source.sha256)) fail(`${mf}: source.sha256 is not a sha256 hash`);
  const root = boxFromJSON(m.root, undefined, `${mf}: root`);
  const n = root.lo.length;
  let regions: Box[] | undefined;
  if (m.regions !== undefined) {
    if (!Array.isArray(m.regions) || !m.regions.length) fail(`${mf}: "regions" must be a list of boxes`);
    regions = m.regions.map((r, i) => boxFromJSON(r, n, `${mf}: regions[${i}]`));
  }
  const seen = new Set<number>();
  checkTree(m.tree, n, m.slices.length, mf, seen, 0);
  if (seen.size !== m.slices.length) fail(`${mf}: the split tree does not reach every slice`);
  // the boxes the manifest states must be exactly the ones the dispatcher's tree sends to each slice
  const leaves = leafBoxes(m.tree, root, m.slices.length);
  m.slices.forEach((s, i) => {
    const b = boxFromJSON(s?.box, n, `${mf}: slices[${i}].box`);
    if (!sameBox(b, leaves[i])) fail(`${mf}: slices[${i}].box is not the box the split tree sends to slice ${i}`);
    if (typeof s.network !== 'string' || typeof s.certificate !== 'string') fail(`${mf}: slices[${i}] names no network or certificate file`);
    if (!existsSync(join(dir, s.network))) fail(`${dir}: slice ${i} network file ${s.network} is missing`);
  });
  return { dir, manifest: m, root, regions, leaves, networkPath: (i) => join(dir, m.slices[i].network) };
}

function sameBox(a: Box, b: Box): boolean {
  return a.lo.every((v, i) => v === b.lo[i]) && a.hi.every((v, i) => v === b.hi[i]);
}

export { boxToJSON };
