/**
 * ONNX files that nnshrink's schema cannot write: a tensor whose data lies in an external file (TensorProto fields
 * 13 and 14, which nnshrink's schema leaves out), and a graph field whose length prefix claims 4 GB.
 */
import protobuf from 'protobufjs';
import { ModelProto, decodeModel } from '../../src/formats/onnx-schema.ts';
import { sources } from './sources.ts';

/** The float32 default network with W0's data moved to "weights.bin" (data_location EXTERNAL). */
export function externalData(): Uint8Array {
  // a private copy of the schema with the two fields added (nnshrink's own reflection objects stay untouched)
  const root = protobuf.Root.fromJSON(ModelProto.root.toJSON());
  const T = root.lookupType('onnx.TensorProto');
  if (!T.fields.external_data) T.add(new protobuf.Field('external_data', 13, 'onnx.StringStringEntryProto', 'repeated'));
  if (!T.fields.data_location) T.add(new protobuf.Field('data_location', 14, 'int32'));
  const M = root.lookupType('onnx.ModelProto');
  const model = decodeModel(sources().onnx32) as Record<string, any>;
  const w0 = model.graph.initializer.find((t: { name: string }) => t.name === 'W0');
  delete w0.raw_data;
  w0.external_data = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '480' }];
  w0.data_location = 1;
  return new Uint8Array(M.encode(M.fromObject(model)).finish());
}

function varint(bytes: Uint8Array, at: number): { value: number; end: number } {
  let value = 0;
  let mul = 1;
  let i = at;
  for (;;) {
    const b = bytes[i++];
    value += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) return { value, end: i };
  }
}

/** The model with the graph field's (ModelProto field 7) length prefix replaced by 2^32 - 1. */
export function graphLengthHuge(bytes: Uint8Array): Uint8Array {
  let at = 0;
  while (at < bytes.length) {
    const tag = varint(bytes, at);
    const wire = tag.value & 7;
    if (tag.value >>> 3 === 7 && wire === 2) {
      const len = varint(bytes, tag.end);
      return Uint8Array.from([...bytes.slice(0, tag.end), 0xff, 0xff, 0xff, 0xff, 0x0f, ...bytes.slice(len.end)]);
    }
    if (wire === 0) at = varint(bytes, tag.end).end;
    else if (wire === 2) {
      const len = varint(bytes, tag.end);
      at = len.end + len.value;
    } else throw new Error(`graphLengthHuge: unexpected wire type ${wire}`);
  }
  throw new Error('graphLengthHuge: no graph field');
}
