/** What every format reader returns, and what every writer takes. */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';

/** A model file format: NNet, ONNX or nnshrink's JSON. */
export type ModelFormat = 'nnet' | 'onnx' | 'json';

/** NNet normalisation constants, kept so the normalised view and NNet writing can be reproduced. */
export interface NNetNormalization {
  inputMin: Float64Array;
  inputMax: Float64Array;
  inputMean: Float64Array;
  inputRange: Float64Array;
  outputMean: number;
  outputRange: number;
}

/** A loaded model: its network, the domain the file states (if any), its format and path, and what a file written back needs to replace it. */
export interface LoadedModel {
  /** the function, from (raw) inputs to (raw) outputs */
  network: Network;
  /** the network's natural domain if the file states one (NNet: the raw [min, max] box) */
  domain?: Box;
  format: ModelFormat;
  path: string;
  /** ONNX input tensor shape (e.g. [1,1,1,5]); reused when writing ONNX back */
  inputShape?: number[];
  /** NNet files: their normalisation constants */
  nnet?: NNetNormalization;
  /** for the normalised NNet view: which view was loaded */
  view?: 'raw' | 'normalized';
  /** ONNX files with a batch-first float input: what they declared, so a file written back can replace them */
  onnx?: OnnxSource;
}

/** What an ONNX source declared that a drop-in replacement must keep (read by onnx-read.ts onnxSourceOf). */
export interface OnnxSource {
  inputName: string;
  outputName: string;
  /** the declared first input dimension: a size, or a dim_param name ('' when it was declared with neither) */
  batch: number | string;
  /** its default-domain opset */
  opset: number;
  /** its input's element type */
  precision: 'float32' | 'float64';
}

/** How a network is written: the domain to store, the precision and input shape of ONNX, the source it replaces. */
export interface SaveOptions {
  /** domain to store where the format has room for it (NNet min/max; ONNX metadata; JSON) */
  domain?: Box;
  /** ONNX: store weights as float32 (default) or float64 */
  precision?: 'float32' | 'float64';
  /** ONNX input shape to declare (default [1, n]) */
  inputShape?: number[];
  /** ONNX: keep this source's input and output names, batch dimension and opset (its precision is the caller's to
   * pass as `precision`); without it the file has 'input' [1, ...] -> 'output' [1, m] at opset 13 */
  source?: OnnxSource;
}
