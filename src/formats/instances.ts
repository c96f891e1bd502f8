/**
 * VNN-COMP instance lists (instances.csv): one instance per line, `model,property[,timeout seconds]`, paths relative
 * to a base directory (the benchmark's, where the file lies, unless the caller says otherwise).
 */
import { isAbsolute, join } from 'node:path';
import { fail, quote } from '../errors.ts';
import { readInputFile } from './read-text.ts';

export interface InstanceRow {
  model: string;
  property: string;
  /** the row's own limit, when it states one */
  timeoutS?: number;
  /** 1-based line in the file, for messages */
  line: number;
}

export function parseInstances(text: string, path: string, modelDir: string, propertyDir: string): InstanceRow[] {
  const rows: InstanceRow[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 2 || f.length > 3 || !f[0] || !f[1]) fail(`${path}:${i + 1}: expected model,property[,timeout] but got ${quote(line)}`);
    let timeoutS: number | undefined;
    if (f.length === 3) {
      timeoutS = Number(f[2]);
      if (f[2] === '' || !Number.isFinite(timeoutS) || timeoutS <= 0) fail(`${path}:${i + 1}: the timeout ${quote(f[2])} is not a positive number of seconds`);
    }
    const at = (dir: string, p: string): string => (isAbsolute(p) ? p : join(dir, p));
    rows.push({ model: at(modelDir, f[0]), property: at(propertyDir, f[1]), timeoutS, line: i + 1 });
  });
  if (rows.length === 0) fail(`${path}: no instances`);
  return rows;
}

export function readInstances(path: string, modelDir: string, propertyDir: string): InstanceRow[] {
  return parseInstances(readInputFile(path).toString('utf8'), path, modelDir, propertyDir);
}
