/**
 * The safetensors file format (huggingface/safetensors), read and written without a dependency:
 *
 *   [8 bytes: N, little-endian u64] [N bytes: JSON header, UTF-8, padded with spaces to a multiple of 8]
 *   [data: each tensor's bytes, little-endian, C order, back to back]
 *
 * Header: `{"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}}`
 * with offsets relative to the start of the data. The reference writer (Rust `safetensors::serialize`) puts
 * `__metadata__` first, orders tensors by descending dtype alignment then by name, lays them out in that order,
 * and pads the header with spaces so the data starts 8-byte aligned. This writer does the same, so its output is
 * byte-identical to the reference's for the same tensors and metadata.
 *
 * The reader validates the way the reference's does (tensors must tile the data section exactly) and reads each
 * tensor straight into its Float32Array (one copy from disk; F16/BF16 converted to F32). No mmap, no whole-file
 * buffer: bert-base is 440 MB.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { UserError } from '../util/errors.js';

/** Bytes per element of every dtype the format defines (dtype names as in the header). */
export const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Dtypes this reader converts to float32. */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;

/** The reference reader refuses headers over 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** What HF `save_pretrained` writes for PyTorch weights. */
export const PT_METADATA: Record<string, string> = { format: 'pt' };

if (endianness() !== 'LE') {
  // Float32Array views use the host byte order; safetensors is little-endian.
  throw new Error('safetensors.ts supports little-endian hosts only');
}

export interface Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte offsets relative to the start of the data section, [begin, end). */
  dataOffsets: [number, number];
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytewise UTF-8 order, as Rust's `String::cmp` (JS's default sort compares UTF-16 units). */
function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Tensors in the reference writer's order (all F32 here, so by name), checked for shape/data agreement. */
function layout(tensors: readonly Tensor[]): Tensor[] {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name.length === 0) throw new Error(`safetensors: bad tensor name "${t.name}"`);
    if (seen.has(t.name)) throw new Error(`safetensors: duplicate tensor name ${t.name}`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || numel(t.shape) !== t.data.length) {
      throw new Error(`safetensors: tensor ${t.name} has ${t.data.length} values but shape [${t.shape}]`);
    }
  }
  return [...tensors].sort((a, b) => utf8Compare(a.name, b.name));
}

/**
 * The 8-byte length prefix plus the padded JSON header for `tensors` (already in layout order), exactly as the
 * reference serializes it (serde_json compact output, `__metadata__` first, tensors in data order).
 */
function encodeHeader(ordered: readonly Tensor[], metadata: Record<string, string> | null, dtype: WritableDtype = 'F32'): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of ordered) {
    const n = t.data.length * DTYPE_SIZES[dtype];
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json]);
}

/** What the writers can store: float32, or IEEE binary16 (shipped models; every loader upcasts to float32). */
export type WritableDtype = 'F32' | 'F16';

function bytesOf(a: Float32Array, dtype: WritableDtype = 'F32'): Buffer {
  if (dtype === 'F32') return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const h = toFloat16(a);
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength);
}

/**
 * float32 → binary16 bit patterns, rounding to nearest even (as torch's `.half()`): overflow gives ±Infinity,
 * tiny values become subnormals or ±0, NaN stays NaN.
 */
export function toFloat16(a: Float32Array): Uint16Array {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      const m = mant | 0x800000; // implicit leading 1
      const shift = 14 - e;
      let h = m >>> shift;
      const rest = m & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rest > half || (rest === half && (h & 1))) h++;
      out[i] = sign | h;
    } else {
      let h = (e << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
      out[i] = sign | h;
    }
  }
  return out;
}

/** A whole safetensors file in memory (small files; `writeSafetensors` streams large ones). */
export function serializeSafetensors(
  tensors: readonly Tensor[],
  metadata: Record<string, string> | null = PT_METADATA,
): Buffer {
  return Buffer.concat(safetensorsParts(tensors, metadata));
}

/** A safetensors file as its consecutive parts, the header then views of the tensors' own bytes (no copy). */
export function safetensorsParts(tensors: readonly Tensor[], metadata: Record<string, string> | null = PT_METADATA): Buffer[] {
  const ordered = layout(tensors);
  return [encodeHeader(ordered, metadata), ...ordered.map((t) => bytesOf(t.data))];
}

/**
 * Writes `tensors` as F32 (or F16) to `path`, header first, then each tensor's bytes from its Float32Array.
 * Writes `path` itself: callers that need atomicity write a temporary path and rename it.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly Tensor[],
  metadata: Record<string, string> | null = PT_METADATA,
  dtype: WritableDtype = 'F32',
): Promise<void> {
  const ordered = layout(tensors);
  const fh = await fsp.open(path, 'w');
  try {
    await fh.write(encodeHeader(ordered, metadata, dtype));
    for (const t of ordered) await writeAll(fh, bytesOf(t.data, dtype));
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done);
    done += bytesWritten;
  }
}

async function readExactly(fh: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await fh.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

let halfTable: Float32Array | undefined;

/** float32 value of every IEEE 754 binary16 bit pattern (exact; built once, 256 KB). */
function f16Table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return (halfTable = t);
}

/**
 * An open safetensors file: the validated header, and tensors read on demand. Always `close()` it.
 */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    /** Absolute file offset where the data section starts (8 + header length). */
    private readonly dataStart: number,
    readonly metadata: Record<string, string> | null,
    /** Tensor headers in data order. */
    readonly tensors: Map<string, TensorInfo>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot open (${code})`);
    }
    try {
      const { size } = await fh.stat();
      const { dataStart, metadata, tensors } = await parseHeader(path, fh, size);
      return new SafetensorsFile(path, fh, dataStart, metadata, tensors);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Names in data order. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Reads one tensor as float32 (F32 read in place, F16/BF16 converted). Other dtypes are refused. */
  async read(name: string): Promise<Float32Array> {
    const info = this.tensors.get(name);
    if (!info) throw new UserError(`${this.path}: no tensor named ${name}`);
    const n = numel(info.shape);
    const position = this.dataStart + info.dataOffsets[0];
    const fail = () => new UserError(`${this.path}: tensor ${name}: file ended while reading its data`);
    if (info.dtype === 'F32') {
      const out = new Float32Array(n);
      if ((await readExactly(this.fh, new Uint8Array(out.buffer), position)) !== out.byteLength) throw fail();
      return out;
    }
    if (info.dtype === 'F16' || info.dtype === 'BF16') {
      const raw = new Uint16Array(n);
      if ((await readExactly(this.fh, new Uint8Array(raw.buffer), position)) !== raw.byteLength) throw fail();
      const out = new Float32Array(n);
      if (info.dtype === 'BF16') {
        // bfloat16 is the top half of a float32.
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) bits[i] = raw[i] << 16;
      } else {
        const table = f16Table();
        for (let i = 0; i < n; i++) out[i] = table[raw[i]];
      }
      return out;
    }
    throw new UserError(
      `${this.path}: tensor ${name} has dtype ${info.dtype}; only ${READABLE_DTYPES.join(', ')} can be read`,
    );
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Every tensor of a file as float32, plus the metadata. For whole-file use; see `SafetensorsFile` for lazy. */
export async function readSafetensors(
  path: string,
): Promise<{ metadata: Record<string, string> | null; tensors: Map<string, { shape: number[]; data: Float32Array }> }> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const info of file.tensors.values()) {
      tensors.set(info.name, { shape: info.shape, data: await file.read(info.name) });
    }
    return { metadata: file.metadata, tensors };
  } finally {
    await file.close();
  }
}

/** Reads and validates the header; every problem is one line naming the file (and the tensor). */
async function parseHeader(
  path: string,
  fh: FileHandle,
  size: number,
): Promise<{ dataStart: number; metadata: Record<string, string> | null; tensors: Map<string, TensorInfo> }> {
  const bad = (problem: string) => new UserError(`${path}: ${problem}`);
  if (size < 8) throw bad(`too small to be a safetensors file (${size} bytes)`);
  const prefix = Buffer.alloc(8);
  await readExactly(fh, prefix, 0);
  const n = prefix.readBigUInt64LE();
  if (n > BigInt(MAX_HEADER_BYTES)) throw bad(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);
  if (8 + headerLength > size) throw bad(`header length ${headerLength} exceeds file size ${size}`);
  const headerBytes = Buffer.alloc(headerLength);
  await readExactly(fh, headerBytes, 8);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw bad('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw bad('header does not start with "{" (not a safetensors file?)');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');

  let metadata: Record<string, string> | null = null;
  const infos: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        typeof entry !== 'object' ||
        entry === null ||
        Array.isArray(entry) ||
        !Object.values(entry).every((v) => typeof v === 'string')
      ) {
        throw bad('__metadata__ must map strings to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    infos.push(parseEntry(path, name, entry));
  }

  // Like the reference: in offset order, tensors must tile the data section from 0 to its end, no gaps.
  infos.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const dataSize = size - 8 - headerLength;
  let end = 0;
  for (const t of infos) {
    const [b, e] = t.dataOffsets;
    if (e > dataSize) {
      throw bad(`tensor ${t.name} offsets out of range ([${b}, ${e}] but the data section has ${dataSize} bytes)`);
    }
    if (b !== end) {
      throw bad(`tensor ${t.name} offsets overlap or leave a gap (starts at ${b}, previous data ends at ${end})`);
    }
    end = e;
  }
  if (end !== dataSize) throw bad(`data section has ${dataSize} bytes but its tensors cover ${end}`);
  return { dataStart: 8 + headerLength, metadata, tensors: new Map(infos.map((t) => [t.name, t])) };
}

function parseEntry(path: string, name: string, entry: unknown): TensorInfo {
  const bad = (problem: string) => new UserError(`${path}: tensor ${name}: ${problem}`);
  if (typeof entry !== 'object' || entry === null) throw bad('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZES)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
  const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(shape) || !shape.every(isIndex)) throw bad(`bad shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[1] < offsets[0]) {
    throw bad(`bad data_offsets ${JSON.stringify(offsets)}`);
  }
  const need = numel(shape) * DTYPE_SIZES[dtype];
  if (offsets[1] - offsets[0] !== need) {
    throw bad(
      `data_offsets [${offsets[0]}, ${offsets[1]}] hold ${offsets[1] - offsets[0]} bytes but shape ` +
        `[${shape}] of ${dtype} needs ${need}`,
    );
  }
  return { name, dtype, shape: shape as number[], dataOffsets: [offsets[0], offsets[1]] };
}

