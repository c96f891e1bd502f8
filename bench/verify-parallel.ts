/**
 * One VNN-COMP ACAS Xu instance at a time on 1 and on N worker threads (`nnshrink verify MODEL PROP --jobs N`: each
 * step of the split tree spreads its 8 most open boxes over the workers; the tree is the same for any N): verdict,
 * boxes and wall-clock time per instance.
 * Run: node --import tsx bench/verify-parallel.ts timeoutSeconds NET:PROP,NET:PROP,... [N=2]
 */
import { join } from 'node:path';
import { loadModel } from '../src/formats/load.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { decidePropertyOnPool } from '../src/verify/property/property.ts';
import { WorkerPool } from '../src/pool/pool.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';

const timeoutMs = Number(process.argv[2] ?? 60) * 1000;
const list = (process.argv[3] ?? '1_9:2,3_3:9,4_9:1').split(',');
const N = Number(process.argv[4] ?? 2);
const dir = join(SHARED_NETS, 'acasxu');
console.log(`| instance | verdict | boxes | 1 thread (s) | ${N} threads (s) | speed-up |`);
console.log('| --- | --- | --- | --- | --- | --- |');
let sum1 = 0;
let sumN = 0;
for (const item of list) {
  const [net, prop] = item.split(':');
  const model = loadModel(join(dir, 'onnx', `ACASXU_run2a_${net}_batch_2000.onnx`));
  const p = readVnnlib(join(dir, 'vnnlib', `prop_${prop}.vnnlib`));
  const times: number[] = [];
  const outs: string[] = [];
  for (const workers of [1, N]) {
    // the pool is made (its workers start) before the clock, as the command line makes it before reading files
    const pool = new WorkerPool(workers);
    const t0 = Date.now();
    const r = await decidePropertyOnPool(model.network, p, { timeoutMs }, pool);
    times.push((Date.now() - t0) / 1000);
    await pool.close();
    outs.push(`${r.result} / ${r.boxes}`);
  }
  sum1 += times[0];
  sumN += times[1];
  const same = outs[0] === outs[1] ? outs[0].replace(' / ', ' | ') : `${outs[0]} vs ${outs[1]}`;
  console.log(`| ${net} prop ${prop} | ${same} | ${times[0].toFixed(2)} | ${times[1].toFixed(2)} | ${(times[0] / times[1]).toFixed(2)} |`);
}
console.log(`\ntotal ${sum1.toFixed(1)} s on 1 thread, ${sumN.toFixed(1)} s on ${N} (${(sum1 / sumN).toFixed(2)}x); timeout ${timeoutMs / 1000} s`);
