import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PT_METADATA,
  readSafetensors,
  SafetensorsFile,
  serializeSafetensors,
  toFloat16,
  writeSafetensors,
} from '../../../src/model/safetensors.js';
import { Rng } from '../../../src/util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'compactlm-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function put(bytes: Uint8Array): string {
  const p = join(dir, `f${count++}.safetensors`);
  writeFileSync(p, bytes);
  return p;
}

/** A file laid out by hand from the spec: u64 LE header length, JSON header, raw data. */
function handBuilt(header: object, data: Uint8Array, pad = true): Buffer {
  let json = Buffer.from(JSON.stringify(header));
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([n, json, data]);
}

const f32 = (...v: number[]) => new Float32Array(v);

describe('writing: byte-identical to the reference writer', () => {
  // Expected bytes are copied from the tests of huggingface/safetensors (safetensors/src/tensor.rs).
  test('test_serialization: "attn.0" F32 [1,2,3] (header already 8-aligned)', () => {
    const out = serializeSafetensors([{ name: 'attn.0', shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) }], null);
    expect([...out]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58,
      34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116,
      97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
      0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  test('test_serialization_forced_alignement: "attn0" padded with 7 spaces', () => {
    const out = serializeSafetensors([{ name: 'attn0', shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) }], null);
    expect([...out]).toEqual([
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34,
      70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97,
      116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
      32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  test('test_empty: metadata only, and no tensors at all', () => {
    expect([...serializeSafetensors([], null)]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect([...serializeSafetensors([], { framework: 'pt' })]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102,
      114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  test('tensors sorted by name, laid out in that order, __metadata__ first, format "pt" by default', async () => {
    const p = join(dir, 'sorted.safetensors');
    await writeSafetensors(p, [
      { name: 'b.weight', shape: [2], data: f32(1, 2) },
      { name: 'a.bias', shape: [1, 3], data: f32(3, 4, 5) },
      { name: 'B.upper', shape: [], data: f32(6) },
    ]);
    const bytes = readFileSync(p);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"B.upper":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"a.bias":{"dtype":"F32","shape":[1,3],"data_offsets":[4,16]},' +
      '"b.weight":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}';
    expect(n).toBe(Math.ceil(json.length / 8) * 8);
    expect(text).toBe(json.padEnd(n, ' '));
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n, bytes.byteOffset + bytes.length));
    expect([...data]).toEqual([6, 3, 4, 5, 1, 2]);
    expect(bytes.length).toBe(8 + n + 24);
  });

  test('a shape that does not match the data is a programming error', () => {
    expect(() => serializeSafetensors([{ name: 'x', shape: [2, 2], data: f32(1, 2, 3) }])).toThrow(/shape \[2,2\]/);
    expect(() =>
      serializeSafetensors([
        { name: 'x', shape: [1], data: f32(1) },
        { name: 'x', shape: [1], data: f32(2) },
      ]),
    ).toThrow(/duplicate/);
  });
});

describe('reading', () => {
  test('round trip of random tensors, metadata kept', async () => {
    const a = new Float32Array(1000).map((_, i) => Math.sin(i) * 1e3);
    const b = f32(-0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38);
    const p = join(dir, 'rt.safetensors');
    await writeSafetensors(p, [
      { name: 'emb', shape: [10, 100], data: a },
      { name: 'odd', shape: [5], data: b },
    ], { format: 'pt', note: 'ü' });
    const { metadata, tensors } = await readSafetensors(p);
    expect(metadata).toEqual({ format: 'pt', note: 'ü' });
    expect(tensors.get('emb')!.shape).toEqual([10, 100]);
    expect(Buffer.from(tensors.get('emb')!.data.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(Object.is(tensors.get('odd')!.data[0], -0)).toBe(true);
    expect([...tensors.get('odd')!.data].slice(1)).toEqual([...b].slice(1));
  });

  test('a hand-built file with F16, BF16, F32 and I64 tensors, header entries in any order, no metadata', async () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555, 0x8000, 0x0400]);
    const bf16 = new Uint16Array([0x3f80, 0xc049, 0x7f80, 0x0001]);
    const f32v = f32(0.5, -7.25);
    const i64 = new BigInt64Array([1n, 2n]);
    const data = Buffer.concat([
      Buffer.from(i64.buffer), // 0..16
      Buffer.from(f32v.buffer), // 16..24
      Buffer.from(f16.buffer), // 24..40
      Buffer.from(bf16.buffer), // 40..48
    ]);
    const header = {
      half: { dtype: 'F16', shape: [2, 4], data_offsets: [24, 40] },
      ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      brain: { dtype: 'BF16', shape: [4], data_offsets: [40, 48] },
      single: { dtype: 'F32', shape: [2], data_offsets: [16, 24] },
    };
    const p = put(handBuilt(header, data));
    const file = await SafetensorsFile.open(p);
    try {
      expect(file.metadata).toBeNull();
      expect(file.names()).toEqual(['ids', 'single', 'half', 'brain']); // data order
      expect([...(await file.read('single'))]).toEqual([0.5, -7.25]);
      expect([...(await file.read('half'))]).toEqual([1, -2, 65504, 2 ** -24, Infinity, 0.333251953125, -0, 2 ** -14]);
      const b = await file.read('brain');
      expect([b[0], b[1], b[2]]).toEqual([1, -3.140625, Infinity]);
      expect(b[3]).toBe(2 ** -133); // bf16 subnormal 0x0001 = 2^-126 * 2^-7
      await expect(file.read('ids')).rejects.toThrow(`${p}: tensor ids has dtype I64; only F32, F16, BF16 can be read`);
      await expect(file.read('nope')).rejects.toThrow(`${p}: no tensor named nope`);
    } finally {
      await file.close();
    }
  });

  test('an unpadded header (allowed by the format) is read too', async () => {
    const p = put(handBuilt({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.from(f32(9).buffer), false));
    expect([...(await readSafetensors(p)).tensors.get('x')!.data]).toEqual([9]);
  });
});

describe('corrupt files: one line naming the file and the problem', () => {
  const good = () => handBuilt({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.from(f32(1, 2).buffer));
  const cases: [string, () => Buffer, RegExp][] = [
    ['empty file', () => Buffer.alloc(0), /too small to be a safetensors file \(0 bytes\)/],
    ['truncated header', () => good().subarray(0, 30), /header length 56 exceeds file size 30/],
    ['absurd header length', () => {
      const b = good();
      b.writeBigUInt64LE(2n ** 40n, 0);
      return b;
    }, /header length 1099511627776 is over the 100000000-byte limit/],
    ['not JSON', () => handBuilt({}, Buffer.alloc(0)).fill(0x7b, 8, 12), /header is not valid JSON/],
    ['not a safetensors file', () => Buffer.from('PK\x03\x04 this is a zip file, not safetensors'), /header length \d+ is over the 100000000-byte limit/],
    ['header not starting with {', () => {
      const b = handBuilt({}, Buffer.alloc(0));
      b[8] = 0x5b;
      return b;
    }, /header does not start with "\{"/],
    ['data cut off', () => good().subarray(0, 68), /tensor x offsets out of range \(\[0, 8\] but the data section has 4 bytes\)/],
    ['trailing bytes', () => Buffer.concat([good(), Buffer.alloc(4)]), /data section has 12 bytes but its tensors cover 8/],
    ['gap', () => handBuilt({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8)),
      /tensor x offsets overlap or leave a gap \(starts at 4, previous data ends at 0\)/],
    ['overlap', () => handBuilt({
      x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    }, Buffer.alloc(8)), /tensor y offsets overlap or leave a gap \(starts at 4, previous data ends at 8\)/],
    ['size mismatch', () => handBuilt({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      /tensor x: data_offsets \[0, 8\] hold 8 bytes but shape \[3\] of F32 needs 12/],
    ['unknown dtype', () => handBuilt({ x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)),
      /tensor x: unknown dtype "Q4"/],
    ['bad shape', () => handBuilt({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4)),
      /tensor x: bad shape \[-1\]/],
    ['bad offsets', () => handBuilt({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, Buffer.alloc(4)),
      /tensor x: bad data_offsets \[4,0\]/],
    ['bad metadata', () => handBuilt({ __metadata__: { n: 1 } }, Buffer.alloc(0)), /__metadata__ must map strings to strings/],
  ];
  test.each(cases)('%s', async (_label, bytes, re) => {
    const p = put(bytes());
    const err = await SafetensorsFile.open(p).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.name).toBe('UserError');
    expect(err!.message.startsWith(`${p}: `)).toBe(true);
    expect(err!.message).toMatch(re);
    expect(err!.message).not.toContain('\n');
  });

  test('missing file', async () => {
    await expect(readSafetensors(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: file not found/);
  });
});

describe('float16 storage (shipped models)', () => {
  /** The nearest binary16 value by exhaustive search over all finite patterns, ties to the even pattern. */
  function nearestHalf(x: number, decoded: Float64Array): number {
    if (x === 0) return x; // ±0 keep their sign
    let best = 0;
    for (let h = 0; h < 65536; h++) {
      const v = decoded[h];
      if (!Number.isFinite(v)) continue;
      const d = Math.abs(v - x) - Math.abs(decoded[best] - x);
      if (d < 0 || (d === 0 && (h & 1) === 0 && v !== 0)) best = h;
    }
    return decoded[best] === 0 ? (x < 0 ? -0 : 0) : decoded[best]; // underflow keeps the sign
  }

  test('toFloat16 rounds to the nearest half (ties to even), and the reader gets those values back', async () => {
    const decoded = new Float64Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      decoded[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
    const rng = new Rng(3);
    const xs = new Float32Array(400);
    for (let i = 0; i < xs.length; i++) xs[i] = (rng.next() - 0.5) * 2 ** Math.floor(rng.next() * 40 - 26); // subnormal to 2^13
    xs.set([0, -0, 1, -2.5, 65504, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -26], 0); // exact, max, ties
    const halves = toFloat16(xs);
    for (let i = 0; i < xs.length; i++) {
      const got = decoded[halves[i]];
      const want = nearestHalf(xs[i], decoded);
      expect([got, xs[i]]).toEqual([want, xs[i]]);
    }
    expect([...toFloat16(Float32Array.of(1e6, -1e6, NaN))].map((h) => decoded[h])).toEqual([Infinity, -Infinity, NaN]);

    const tmp = mkdtempSync(join(tmpdir(), 'compactlm-f16-'));
    try {
      const path = join(tmp, 'half.safetensors');
      await writeSafetensors(path, [{ name: 'w', shape: [20, 20], data: xs }], PT_METADATA, 'F16');
      const f = await SafetensorsFile.open(path);
      expect(f.tensors.get('w')?.dtype).toBe('F16');
      const back = await f.read('w');
      await f.close();
      for (let i = 0; i < xs.length; i++) expect(back[i]).toBe(decoded[halves[i]]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
