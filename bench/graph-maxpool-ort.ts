/**
 * Issue 27, MaxPool windows as selections: what replacing a MaxPool by a plain selection could gain in
 * onnxruntime, at most. Two one-node models on Convnet_maxpool's pooling shape ([batch, 32, 27, 27] -> [batch, 32, 6, 6], 4x4 stride 4):
 * the MaxPool itself, and the cheapest selection there is (a strided Slice: one fixed tap per window, as if every
 * window of every channel were decided by the same tap). Their times per run bound what a selection could save;
 * neither has parameters, so no file gets smaller. For scale: the whole Convnet_maxpool network (batch 1: its file
 * fixes it).
 * Run: node --import tsx bench/graph-maxpool-ort.ts [runs=2000] [batch=1]
 */
import * as ort from 'onnxruntime-node';
import { ATTR_INTS, encodeModel, ONNX_FLOAT, type OAttr, type ONode } from '../src/formats/onnx-schema.ts';
import { int64Tensor } from '../src/formats/onnx-write.ts';
import { existsSync, readFileSync } from 'node:fs';
import { sharedPath } from '../test/helpers/shared.ts';

const runs = Number(process.argv[2] ?? 2000);
const batch = Number(process.argv[3] ?? 1);
const [C, H, W] = [32, 27, 27];
const [K, OUT] = [4, 6];

const info = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
const ints = (name: string, v: number[]): OAttr => ({ name, ints: v, type: ATTR_INTS });

function model(node: ONode, inits: ReturnType<typeof int64Tensor>[] = []): Uint8Array {
  return encodeModel({
    ir_version: 8,
    producer_name: 'bench',
    graph: { name: 'g', node: [node], initializer: inits, input: [info('x', [batch, C, H, W])], output: [info('y', [batch, C, OUT, OUT])] },
    opset_import: [{ domain: '', version: 17 }],
  });
}

const maxpool = model({ op_type: 'MaxPool', name: 'pool', input: ['x'], output: ['y'], attribute: [ints('kernel_shape', [K, K]), ints('strides', [K, K]), ints('pads', [0, 0, 0, 0])] });
const slice = model({ op_type: 'Slice', name: 'sel', input: ['x', 'starts', 'ends', 'axes', 'steps'], output: ['y'] }, [
  int64Tensor('starts', [2], [0, 0]), int64Tensor('ends', [2], [K * OUT, K * OUT]), int64Tensor('axes', [2], [2, 3]), int64Tensor('steps', [2], [K, K]),
]);

async function time(bytes: Uint8Array, shape = [batch, C, H, W]): Promise<number> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const x = new ort.Tensor('float32', Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => Math.abs(Math.sin(i))), shape);
  const feed = { [s.inputNames[0]]: x };
  for (let i = 0; i < 200; i++) await s.run(feed);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await s.run(feed);
  return Number(process.hrtime.bigint() - t0) / 1e3 / runs;
}

const [a, b] = [await time(maxpool), await time(slice)];
console.log(`| model ([${batch}, ${C}, ${H}, ${W}] -> ${K}x${K} stride ${K}) | file bytes | microseconds per run (${runs} runs, 1 thread) |`);
console.log('| --- | --- | --- |');
console.log(`| MaxPool | ${maxpool.length} | ${a.toFixed(1)} |`);
console.log(`| strided Slice (a fixed tap per window) | ${slice.length} | ${b.toFixed(1)} |`);
const whole = sharedPath('cnn', 'verivital', 'Convnet_maxpool.onnx');
if (batch === 1 && existsSync(whole)) console.log(`| the whole Convnet_maxpool ([${batch}, 1, 28, 28]) | ${readFileSync(whole).length} | ${(await time(readFileSync(whole), [batch, 1, 28, 28])).toFixed(1)} |`);
