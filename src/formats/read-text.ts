/** Reading input files with one-line errors (missing file, a directory, unreadable). */
import { readFileSync, statSync } from 'node:fs';
import { fail } from '../errors.ts';

export function readInputFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch {
    fail(`${path}: no such file`);
  }
  if (st.isDirectory()) fail(`${path}: is a directory, expected a file`);
  try {
    return readFileSync(path);
  } catch (e) {
    fail(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
