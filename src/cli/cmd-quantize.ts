import { fail } from '../errors.ts';
import type { CommandSpec } from './common.ts';

export const quantizeCommand: CommandSpec = {
  name: 'quantize',
  summary: 'store a network in float16 or int8 and prove it within a tolerance of the original on a domain',
  usage: 'nnshrink quantize MODEL --to float16|int8 ... -o OUT.onnx',
  options: {},
  maxPositionals: 1,
  run() {
    fail('quantize: not built yet');
  },
};
