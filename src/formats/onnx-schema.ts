/**
 * The part of the ONNX protobuf schema nnshrink reads and writes, written from the ONNX specification's message and
 * field numbers (onnx.proto, IR version 3 and later). Decoded and encoded by protobufjs.
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package onnx;
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message StringStringEntryProto { string key = 1; string value = 2; }
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  string domain = 7;
}
message AttributeProto {
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  string doc_string = 13;
  int32 type = 20;
  string ref_attr_name = 21;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4;
  repeated int32 int32_data = 5;
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7;
  string name = 8;
  bytes raw_data = 9;
  repeated double double_data = 10;
  repeated uint64 uint64_data = 11;
  string doc_string = 12;
  repeated StringStringEntryProto external_data = 13;
  int32 data_location = 14;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1;
}
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; string dim_param = 2; string denotation = 3; }
  repeated Dimension dim = 1;
}
`;

export const ONNX_FLOAT = 1;
/** TensorProto data types of quantised weights (onnx.proto: UINT8 = 2, INT8 = 3). */
export const ONNX_UINT8 = 2;
export const ONNX_INT8 = 3;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_FLOAT16 = 10;
export const ONNX_DOUBLE = 11;
/** TensorProto.data_location: the data lies in another file (read as an int32; on the wire it is the enum's varint) */
export const ONNX_EXTERNAL = 1;

export const ATTR_FLOAT = 1;
export const ATTR_INT = 2;
export const ATTR_GRAPH = 5;
export const ATTR_INTS = 7;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
export const ModelProto = root.lookupType('onnx.ModelProto');

/** Plain-object shapes of the decoded messages (int64 as number via toObject({ longs: Number })). */
export interface OTensor {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  data_location?: number;
  external_data?: Array<{ key?: string; value?: string }>;
}
export interface OAttr {
  name: string;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OTensor;
  g?: OGraph;
  floats?: number[];
  ints?: number[];
  type?: number;
}
export interface ONode {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  attribute?: OAttr[];
  domain?: string;
}
export interface OValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: Array<{ dim_value?: number; dim_param?: string }> } } };
}
export interface OGraph {
  node?: ONode[];
  name?: string;
  initializer?: OTensor[];
  input?: OValueInfo[];
  output?: OValueInfo[];
  value_info?: OValueInfo[];
}
export interface OModel {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  graph?: OGraph;
  opset_import?: Array<{ domain?: string; version?: number }>;
  metadata_props?: Array<{ key?: string; value?: string }>;
}

export function decodeModel(bytes: Uint8Array): OModel {
  const msg = ModelProto.decode(bytes);
  return ModelProto.toObject(msg, { longs: Number, bytes: Uint8Array as unknown as typeof String, defaults: false, arrays: true }) as OModel;
}

export function encodeModel(model: OModel): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new Error(`internal: invalid ONNX model object: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
