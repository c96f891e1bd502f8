/** onnxruntime-node as an independent evaluator of ONNX files and bytes. */
import * as ort from 'onnxruntime-node';

export async function ortRun(model: string | Uint8Array, x: ArrayLike<number>, shape: number[], dtype: 'float32' | 'float64' = 'float32'): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(model as string);
  const data = dtype === 'float32' ? Float32Array.from(x) : Float64Array.from(x);
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor(dtype, data, shape) });
  return Float64Array.from(r[s.outputNames[0]].data as Float32Array);
}

export async function ortSession(model: string | Uint8Array) {
  const s = await ort.InferenceSession.create(model as string);
  return async (x: ArrayLike<number>, shape: number[], dtype: 'float32' | 'float64' = 'float32'): Promise<Float64Array> => {
    const data = dtype === 'float32' ? Float32Array.from(x) : Float64Array.from(x);
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor(dtype, data, shape) });
    return Float64Array.from(r[s.outputNames[0]].data as Float32Array);
  };
}
