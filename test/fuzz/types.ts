/** The shape of a malformed-input case: files to lay out in a fresh directory, a command line, and what must happen. */

/** A file's contents, or a thing that is not a regular file (made when the case is laid out). */
export type FileSpec =
  | string
  | Uint8Array
  | { special: 'fifo' }
  | { special: 'dir' }
  /** `size` bytes of `byte` (a 20 MB file is made on disk, not kept in the corpus) */
  | { special: 'fill'; size: number; byte: number };

/** 'bad-input': exit 2 with one short line on stderr; 'refuted': exit 1 (a claim contradicted). */
export type Expect = 'bad-input' | 'refuted';

export interface FuzzCase {
  /** unique, stable across runs (the report and the CI sample name cases by it) */
  name: string;
  /** the family of malformation, for the counts */
  kind: string;
  /** relative path -> contents; the command runs in the directory holding them */
  files: Record<string, FileSpec>;
  /** arguments after `node bin/nnshrink.js` */
  argv: string[];
  expect: Expect;
  /** why that is the right outcome (one sentence) */
  why: string;
}

export function badInput(name: string, kind: string, files: Record<string, FileSpec>, argv: string[], why: string): FuzzCase {
  return { name, kind, files, argv, expect: 'bad-input', why };
}
