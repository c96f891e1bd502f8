/**
 * The pairs NeuroDiff's ACAS Xu experiments compare, made readable by nnshrink (written under /tmp, never into the
 * project). NeuroDiff compares the artifact's DiffNN-Code/nnet/N.nnet with compressed_nnets/N_16bit.nnet. Their
 * headers carry two extra columns per line (7 mins instead of 5, ...) that nnshrink's NNet reader rightly refuses;
 * NeuroDiff reads only the first 5 (6) values. So nnshrink gets: the original from ../shared/nets/acasxu (checked
 * here to have the very same weight lines as the artifact's copy) and the 16-bit copy as the shared file's header
 * over the artifact's 16-bit weight lines. Both tools then see the same weights and the same input normalisation.
 * NeuroDiff bounds ONE output (the property's target); `nnshrink equiv` bounds all five, so for the same question
 * both files are also cut to that output row (`single`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acasNnet } from '../../test/helpers/shared.ts';

export interface Pair { id: string; ndOrig: string; ndCopy: string; orig: string; copy: string }

/** The 45 networks' ids, 1_1 .. 5_9, in the artifact's order. */
export const ALL_IDS: string[] = Array.from({ length: 45 }, (_, k) => `${Math.floor(k / 9) + 1}_${(k % 9) + 1}`);

/** NNet lines: comment lines first, then sizes, layer sizes, flag, mins, maxes, means, ranges, then weight lines. */
function split(path: string): { header: string[]; body: string[] } {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  let i = 0;
  while (lines[i].startsWith('//')) i++;
  return { header: lines.slice(0, i + 7), body: lines.slice(i + 7) };
}

export function preparePair(id: string, ndDir: string, outDir: string): Pair {
  const [a, b] = id.split('_').map(Number);
  const name = `ACASXU_run2a_${id}_batch_2000`;
  const ndOrig = join(ndDir, 'nnet', `${name}.nnet`);
  const ndCopy = join(ndDir, 'compressed_nnets', `${name}_16bit.nnet`);
  const orig = acasNnet(a, b);
  const shared = split(orig);
  if (split(ndOrig).body.join('\n') !== shared.body.join('\n')) throw new Error(`${ndOrig}: weights differ from ${orig}`);
  const copy16 = split(ndCopy).body;
  if (copy16.length !== shared.body.length) throw new Error(`${ndCopy}: ${copy16.length} weight lines, ${orig} has ${shared.body.length}`);
  mkdirSync(outDir, { recursive: true });
  const copy = join(outDir, `${id}_16bit.nnet`);
  writeFileSync(copy, [...shared.header, ...copy16, ''].join('\n'));
  return { id, ndOrig, ndCopy, orig, copy };
}

/** The same NNet with only output row k of its last layer (its normalisation lines are per input, so unchanged). */
export function single(src: string, k: number, outDir: string, tag: string): string {
  const { header, body } = split(src);
  const c = header.findIndex((l) => !l.startsWith('//'));
  const sizes = header[c + 1].replace(/,$/, '').split(',').map(Number);
  const out: string[] = [];
  let p = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const n = sizes[l + 1];
    const w = body.slice(p, p + n);
    const bias = body.slice(p + n, p + 2 * n);
    p += 2 * n;
    out.push(...(l + 2 === sizes.length ? [w[k], bias[k]] : [...w, ...bias]));
  }
  if (p !== body.length) throw new Error(`${src}: ${body.length} weight lines, the layer sizes call for ${p}`);
  const dims = header[c].replace(/,$/, '').split(',');
  dims[2] = '1';
  sizes[sizes.length - 1] = 1;
  const head = [...header.slice(0, c), dims.join(',') + ',', sizes.join(',') + ',', ...header.slice(c + 2)];
  const dst = join(outDir, `${tag}_o${k}.nnet`);
  writeFileSync(dst, [...head, ...out, ''].join('\n'));
  return dst;
}
