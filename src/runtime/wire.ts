/**
 * Tensors as they cross between the main thread and the step worker: plain objects (structured-clone friendly)
 * whose buffers can be transferred instead of copied.
 */
import ort from 'onnxruntime-node';

export type WireData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

export interface WireTensor {
  type: 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';
  dims: number[];
  data: WireData;
}

export type WireFeeds = Record<string, WireTensor>;

export function toOrt(t: WireTensor): ort.Tensor {
  return new ort.Tensor(t.type, t.data as never, t.dims);
}

/** A copy of an ORT tensor's data (the copy may be transferred; the tensor keeps its own buffer). */
export function fromOrt(t: ort.Tensor, copy = true): WireTensor {
  const data = t.data as WireData;
  return { type: t.type as WireTensor['type'], dims: [...t.dims], data: copy ? (data.slice() as WireData) : data };
}

/** The ArrayBuffers of some wire tensors, for a postMessage transfer list (each buffer once). */
export function buffersOf(tensors: Iterable<WireTensor>): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  // Only buffers a tensor owns whole: a view into a shared pool (e.g. Node's Buffer pool) must not be detached.
  for (const t of tensors) if (t.data.buffer instanceof ArrayBuffer && t.data.byteLength === t.data.buffer.byteLength) set.add(t.data.buffer);
  return [...set];
}

export const f32 = (data: Float32Array, dims: number[]): WireTensor => ({ type: 'float32', dims, data });
export const i64 = (data: BigInt64Array, dims: number[]): WireTensor => ({ type: 'int64', dims, data });
export const bool = (data: Uint8Array, dims: number[]): WireTensor => ({ type: 'bool', dims, data });
export const scalarF32 = (x: number): WireTensor => ({ type: 'float32', dims: [], data: Float32Array.of(x) });
