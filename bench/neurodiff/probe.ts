/**
 * NeuroDiff's own reading of a property and of its two networks, through nd_probe (bench/neurodiff/nd_probe.c,
 * linked with NeuroDiff's objects by build.sh): the target output, the normalised input box (NeuroDiff's float32
 * (x - mean) / range, after clamping to the NNet's mins and maxes), and both networks' outputs at normalised points.
 */
import { execFileSync } from 'node:child_process';

export interface NdReading { target: number; lo: number[]; hi: number[]; f: number[][]; g: number[][] }

const nums = (line: string, tag: string): number[] => {
  const t = line.split(' ');
  if (t[0] !== tag) throw new Error(`nd_probe: expected '${tag} ...', got '${line}'`);
  return t.slice(1).map(Number);
};

export function ndProbe(probe: string, property: number, orig: string, copy: string, points: number[][] = []): NdReading {
  const text = execFileSync(probe, [String(property), orig, copy, ...points.map((x) => x.join(','))], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
  });
  const lines = text.trim().split('\n');
  // %.9g names each float32 exactly: fround gives back NeuroDiff's very value (nnshrink then reads it in full)
  const box = (line: string, tag: string): number[] => nums(line, tag).map(Math.fround);
  const r: NdReading = { target: nums(lines[0], 'target')[0], lo: box(lines[1], 'lo'), hi: box(lines[2], 'hi'), f: [], g: [] };
  for (let i = 3; i + 2 < lines.length; i += 3) {
    r.f.push(nums(lines[i + 1], 'f'));
    r.g.push(nums(lines[i + 2], 'g'));
  }
  if (r.f.length !== points.length) throw new Error(`nd_probe: ${r.f.length} points evaluated, ${points.length} asked`);
  return r;
}

/** A box as nnshrink's --domain takes it, each value in full (JavaScript's shortest text that reads back the same double). */
export function domainArg(lo: number[], hi: number[]): string {
  return `${lo.join(',')}:${hi.join(',')}`;
}
