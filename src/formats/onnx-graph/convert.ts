/** The table of ONNX operators read on the data path, each turned into graph-model nodes by its converter. */
import type { Converter } from './reader.ts';
import { CONV_OPS } from './convert-conv.ts';
import { DENSE_OPS } from './convert-dense.ts';
import { ARITH_OPS } from './convert-arith.ts';
import { ACT_OPS } from './convert-act.ts';
import { SHAPE_OPS } from './convert-shape.ts';


export const CONVERTERS: Readonly<Record<string, Converter>> = { ...CONV_OPS, ...DENSE_OPS, ...ARITH_OPS, ...ACT_OPS, ...SHAPE_OPS };

/** The operators read, for error messages (plus everything that folds when its inputs are constants). */
export const GRAPH_OPS = Object.keys(CONVERTERS).filter((k) => k !== 'Max').sort();
