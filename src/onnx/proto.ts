/**
 * A minimal protobuf ENCODER for ONNX ModelProto (field numbers from onnx/onnx.proto, IR 9–10). It writes only what
 * CompactLM needs: a graph of nodes with attributes, initializers with raw little-endian data, and typed inputs and
 * outputs with static or symbolic dims. No decoder: ONNX Runtime reads what this writes.
 *
 * Messages are built as lists of byte chunks with a known total length, so a nested message costs one length
 * prefix and no copy; big tensors (hundreds of MB) are referenced, never concatenated twice.
 */

/** ONNX TensorProto.DataType numbers for the element types CompactLM uses. */
export const DATA_TYPE = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type DType = keyof typeof DATA_TYPE;

export interface TensorSpec {
  name?: string;
  dtype: DType;
  dims: readonly number[];
  /** Little-endian element bytes (a typed array's bytes on every platform Node runs on). */
  raw: Uint8Array;
}

/** One attribute; the kind is explicit because ONNX rejects a float attribute written without its type. */
export type AttrSpec =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorSpec };

export interface NodeSpec {
  opType: string;
  inputs: readonly string[]; // '' marks an omitted optional input
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attrs?: ReadonlyArray<[string, AttrSpec]>;
}

export interface ValueInfoSpec {
  name: string;
  dtype: DType;
  /** A number is a static dim; a string is a symbolic dim (dim_param), e.g. 'batch'. */
  dims: ReadonlyArray<number | string>;
}

export interface ModelSpec {
  graphName: string;
  nodes: readonly NodeSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  initializers: readonly TensorSpec[];
  opset: number; // default ('ai.onnx') domain
  irVersion?: number; // 9 by default (ONNX 1.15, opset 20)
  producerVersion?: string;
}

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

/** A message under construction: chunks in order plus their total byte length. */
class Msg {
  parts: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private flush(): void {
    if (this.scratch.length === 0) return;
    const b = Uint8Array.from(this.scratch);
    this.scratch = [];
    this.parts.push(b);
    this.length += b.length;
  }
  private varint(n: number): void {
    if (n < 0) {
      // int64 negatives: 64-bit two's complement, always 10 bytes.
      let v = BigInt.asUintN(64, BigInt(n));
      while (v > 0x7fn) {
        this.scratch.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.scratch.push(Number(v));
      return;
    }
    if (!Number.isSafeInteger(n)) throw new RangeError(`protobuf varint: ${n} is not a safe integer`);
    while (n > 0x7f) {
      this.scratch.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.scratch.push(n);
  }
  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  int(field: number, n: number): this {
    this.tag(field, 0);
    this.varint(n);
    return this;
  }
  float(field: number, x: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    this.scratch.push(...b);
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    this.flush();
    if (data.length > 0) {
      this.parts.push(data);
      this.length += data.length;
    }
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Msg): this {
    m.flush();
    this.tag(field, 2);
    this.varint(m.length);
    this.flush();
    this.parts.push(...m.parts);
    this.length += m.length;
    return this;
  }
  finish(): Msg {
    this.flush();
    return this;
  }
}

function tensorMsg(t: TensorSpec): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  m.int(2, DATA_TYPE[t.dtype]);
  if (t.name !== undefined) m.string(8, t.name);
  return m.bytes(9, t.raw);
}

function attrMsg(name: string, a: AttrSpec): Msg {
  const m = new Msg().string(1, name).int(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'float': return m.float(2, a.value);
    case 'int': return m.int(3, a.value);
    case 'string': return m.string(4, a.value);
    case 'tensor': return m.msg(5, tensorMsg(a.value));
    case 'floats': for (const x of a.value) m.float(7, x); return m;
    case 'ints': for (const x of a.value) m.int(8, x); return m;
  }
}

function nodeMsg(n: NodeSpec): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.opType);
  for (const [k, a] of n.attrs ?? []) m.msg(5, attrMsg(k, a));
  if (n.domain) m.string(7, n.domain);
  return m;
}

function valueInfoMsg(v: ValueInfoSpec): Msg {
  const shape = new Msg();
  for (const d of v.dims) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().string(2, d));
  const tensorType = new Msg().int(1, DATA_TYPE[v.dtype]).msg(2, shape);
  return new Msg().string(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

/** Encodes a whole model; the result is one Buffer ready for `InferenceSession.create` or a file. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const graph = new Msg();
  for (const n of spec.nodes) graph.msg(1, nodeMsg(n));
  graph.string(2, spec.graphName);
  for (const t of spec.initializers) graph.msg(5, tensorMsg(t));
  for (const v of spec.inputs) graph.msg(11, valueInfoMsg(v));
  for (const v of spec.outputs) graph.msg(12, valueInfoMsg(v));
  const model = new Msg()
    .int(1, spec.irVersion ?? 9)
    .string(2, 'compactlm')
    .string(3, spec.producerVersion ?? '0.1.0')
    .msg(7, graph)
    .msg(8, new Msg().string(1, '').int(2, spec.opset))
    .finish();
  return Buffer.concat(model.parts, model.length);
}
