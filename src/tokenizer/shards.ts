/**
 * Token-id shards: the training data that `compactlm tokenize <csv> --out <dir>` writes and the trainer reads.
 *
 * Layout of <dir> (also described in datasets/README-shards.md):
 *   manifest.json      {format: "compactlm-token-shards", version: 1, dtype: "uint16", vocab_size: 30522,
 *                       max_length, tokenizer: {name: "bert-base-uncased", vocab_sha256},
 *                       source: {file, text_column, rows, skipped_empty},
 *                       shards: [{file: "shard-00000.bin", index: "shard-00000.idx", sequences, tokens}, …],
 *                       stats: {sequences, tokens, truncated, mean_length, max_length_seen, unk_rate, tokens_per_s}}
 *   shard-NNNNN.bin    the token ids of every sequence of the shard, concatenated, as uint16 little-endian. Each
 *                      sequence is one CSV row: [CLS] … [SEP], at most max_length ids.
 *   shard-NNNNN.idx    uint32 little-endian offsets, counted in tokens from the start of the shard's .bin:
 *                      sequences + 1 entries, the first 0 and the last the shard's token count; sequence i is
 *                      tokens [idx[i], idx[i+1]).
 * A shard is closed when the next sequence would take its .bin past ~64 MiB (shards stay small enough to read
 * whole, and uint32 offsets cannot overflow). The folder is written under a temporary name and renamed at the end,
 * so a failed run leaves nothing behind. Counts in the manifest are checked against the files when opened.
 */
import { promises as fsp, readFileSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { commitFolder, tempSibling } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export const SHARD_FORMAT = 'compactlm-token-shards';
export const SHARD_VERSION = 1;
export const DEFAULT_SHARD_BYTES = 64 * 1024 * 1024;

export interface ShardEntry {
  file: string;
  index: string;
  sequences: number;
  tokens: number;
}

export interface ShardStats {
  sequences: number;
  tokens: number;
  /** Sequences that lost content tokens to max_length. */
  truncated: number;
  mean_length: number;
  max_length_seen: number;
  /** [UNK] ids over all ids except [CLS]/[SEP]. */
  unk_rate: number;
  tokens_per_s: number;
}

export interface ShardManifest {
  format: typeof SHARD_FORMAT;
  version: typeof SHARD_VERSION;
  dtype: 'uint16';
  vocab_size: number;
  max_length: number;
  tokenizer: { name: string; vocab_sha256: string };
  source: { file: string; text_column: string; rows: number; skipped_empty: number };
  shards: ShardEntry[];
  stats: ShardStats;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The bytes of a typed array in little-endian order (a copy on big-endian machines only). */
function leBytes(a: Uint16Array | Uint32Array): Buffer {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return b;
  const c = Buffer.from(b);
  return a instanceof Uint16Array ? c.swap16() : c.swap32();
}

function fromLe<T extends Uint16Array | Uint32Array>(bytes: Buffer, make: (b: ArrayBuffer, off: number, n: number) => T, width: 2 | 4): T {
  let b = bytes;
  // Typed arrays need an aligned offset; a swap needs a copy anyway.
  if (b.byteOffset % width !== 0 || !LITTLE_ENDIAN) b = Buffer.from(b);
  if (!LITTLE_ENDIAN) width === 2 ? b.swap16() : b.swap32();
  return make(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength / width);
}

const u16 = (b: Buffer) => fromLe(b, (buf, off, n) => new Uint16Array(buf, off, n), 2);
const u32 = (b: Buffer) => fromLe(b, (buf, off, n) => new Uint32Array(buf, off, n), 4);

function shardName(i: number): { file: string; index: string } {
  const n = String(i).padStart(5, '0');
  return { file: `shard-${n}.bin`, index: `shard-${n}.idx` };
}

/**
 * Writes sequences into shards in a temporary folder beside `dir`; `commit()` adds the manifest and renames the
 * folder to `dir` (replacing an earlier shard folder there), `abort()` deletes it.
 */
export class ShardWriter {
  readonly tmp: string;
  private shards: ShardEntry[] = [];
  private handle: FileHandle | null = null;
  private offsets: number[] = [0];
  private buffer = new Uint16Array(1 << 19);
  private buffered = 0;
  private shardTokens = 0;

  private constructor(readonly dir: string, private shardBytes: number) {
    this.tmp = tempSibling(dir);
  }

  /** Checks that `dir` can be written (its parent exists; it is absent or an earlier shard folder). */
  static async create(dir: string, opts: { shardBytes?: number } = {}): Promise<ShardWriter> {
    const parent = dirname(dir);
    let st: Stats | undefined;
    try {
      st = await fsp.stat(parent);
    } catch {
      throw new UserError(`${dir}: output folder ${parent} does not exist`);
    }
    if (!st.isDirectory()) throw new UserError(`${dir}: ${parent} is not a folder`);
    await checkReplaceable(dir);
    const w = new ShardWriter(dir, opts.shardBytes ?? DEFAULT_SHARD_BYTES);
    await fsp.mkdir(w.tmp);
    return w;
  }

  /** Appends one sequence (token ids < 65536). */
  async add(ids: Uint16Array): Promise<void> {
    if (ids.length === 0) throw new Error('ShardWriter.add: empty sequence');
    const bytes = ids.length * 2;
    if (this.handle && this.shardTokens > 0 && (this.shardTokens * 2 + bytes > this.shardBytes)) await this.closeShard();
    if (!this.handle) await this.openShard();
    if (this.buffered + ids.length > this.buffer.length) await this.flush();
    if (ids.length > this.buffer.length) {
      await this.handle!.write(leBytes(ids));
    } else {
      this.buffer.set(ids, this.buffered);
      this.buffered += ids.length;
    }
    this.shardTokens += ids.length;
    this.offsets.push(this.shardTokens);
  }

  private async openShard(): Promise<void> {
    const { file } = shardName(this.shards.length);
    this.handle = await fsp.open(join(this.tmp, file), 'wx');
    this.offsets = [0];
    this.shardTokens = 0;
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0) return;
    await this.handle!.write(leBytes(this.buffer.subarray(0, this.buffered)));
    this.buffered = 0;
  }

  private async closeShard(): Promise<void> {
    if (!this.handle) return;
    await this.flush();
    await this.handle.close();
    this.handle = null;
    const names = shardName(this.shards.length);
    await fsp.writeFile(join(this.tmp, names.index), leBytes(Uint32Array.from(this.offsets)));
    this.shards.push({ ...names, sequences: this.offsets.length - 1, tokens: this.shardTokens });
  }

  /** Finishes the last shard, writes manifest.json (its `shards` filled in here) and moves the folder into place. */
  async commit(manifest: Omit<ShardManifest, 'shards'>): Promise<ShardManifest> {
    await this.closeShard();
    const full: ShardManifest = { ...manifest, shards: this.shards };
    await fsp.writeFile(join(this.tmp, 'manifest.json'), `${JSON.stringify(full, null, 2)}\n`);
    await checkReplaceable(this.dir);
    await commitFolder(this.tmp, this.dir);
    return full;
  }

  async abort(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = null;
    await fsp.rm(this.tmp, { recursive: true, force: true });
  }
}

/** An existing `dir` may be replaced only if it is an empty folder or an earlier shard folder. */
async function checkReplaceable(dir: string): Promise<void> {
  let st: Stats;
  try {
    st = await fsp.stat(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
  const entries = await fsp.readdir(dir);
  if (entries.length === 0) return;
  if (!entries.includes('manifest.json') || readManifestFormat(join(dir, 'manifest.json')) !== SHARD_FORMAT) {
    throw new UserError(`${dir}: exists and is not a token-shard folder (choose another --out or remove it)`);
  }
}

function readManifestFormat(file: string): unknown {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown }).format;
  } catch {
    return undefined;
  }
}

export interface ShardSet {
  dir: string;
  manifest: ShardManifest;
  /** Number of sequences over all shards. */
  size: number;
  /** Every sequence in order, shard by shard (one shard in memory at a time). */
  sequences(): AsyncGenerator<Uint16Array>;
  /** Sequence `i` (0-based over all shards), read from disk. */
  get(i: number): Promise<Uint16Array>;
  close(): Promise<void>;
}

/** Opens a shard folder, checking the manifest against the files (sizes, offsets) before anything is read. */
export async function openShards(dir: string): Promise<ShardSet> {
  const manifestFile = join(dir, 'manifest.json');
  let manifest: ShardManifest;
  try {
    manifest = JSON.parse(await fsp.readFile(manifestFile, 'utf8')) as ShardManifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${dir}: no manifest.json (not a token-shard folder)` : `${manifestFile}: not valid JSON`);
  }
  if (manifest.format !== SHARD_FORMAT || manifest.version !== SHARD_VERSION || manifest.dtype !== 'uint16') {
    throw new UserError(`${manifestFile}: not a ${SHARD_FORMAT} v${SHARD_VERSION} uint16 manifest`);
  }
  if (!Array.isArray(manifest.shards)) throw new UserError(`${manifestFile}: no "shards" list`);
  const offsets: Uint32Array[] = [];
  const starts: number[] = [0];
  for (const s of manifest.shards) {
    const bin = join(dir, s.file);
    const idxFile = join(dir, s.index);
    let binSize: number;
    let idx: Uint32Array;
    try {
      binSize = (await fsp.stat(bin)).size;
      idx = u32(await fsp.readFile(idxFile));
    } catch (e) {
      throw new UserError(`${dir}: shard ${s.file}/${s.index} missing (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    if (binSize !== s.tokens * 2) throw new UserError(`${bin}: ${binSize} bytes, manifest says ${s.tokens} uint16 tokens`);
    if (idx.length !== s.sequences + 1 || idx[0] !== 0 || idx[idx.length - 1] !== s.tokens) {
      throw new UserError(`${idxFile}: ${idx.length} offsets ending at ${idx[idx.length - 1]}, manifest says ${s.sequences} sequences, ${s.tokens} tokens`);
    }
    for (let i = 1; i < idx.length; i++) {
      if (idx[i] <= idx[i - 1]) throw new UserError(`${idxFile}: offset ${i} is not after offset ${i - 1}`);
    }
    offsets.push(idx);
    starts.push(starts[starts.length - 1] + s.sequences);
  }
  const size = starts[starts.length - 1];
  const handles = new Map<number, FileHandle>();

  async function* sequences(): AsyncGenerator<Uint16Array> {
    for (let k = 0; k < manifest.shards.length; k++) {
      const tokens = u16(await fsp.readFile(join(dir, manifest.shards[k].file)));
      const idx = offsets[k];
      for (let i = 0; i + 1 < idx.length; i++) yield tokens.subarray(idx[i], idx[i + 1]);
    }
  }

  async function get(i: number): Promise<Uint16Array> {
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new RangeError(`sequence ${i} out of range [0, ${size})`);
    // The shard holding i: the last k with starts[k] <= i.
    let lo = 0;
    let hi = manifest.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    const idx = offsets[lo];
    const j = i - starts[lo];
    let h = handles.get(lo);
    if (!h) {
      h = await fsp.open(join(dir, manifest.shards[lo].file), 'r');
      handles.set(lo, h);
    }
    const n = idx[j + 1] - idx[j];
    const buf = Buffer.alloc(n * 2);
    await h.read(buf, 0, n * 2, idx[j] * 2);
    return u16(buf);
  }

  async function close(): Promise<void> {
    for (const h of handles.values()) await h.close();
    handles.clear();
  }

  return { dir, manifest, size, sequences, get, close };
}
