import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { tempPath } from '../util/atomic.js';
import { defaultWorkers, runChunks, type ChunkJob, type ChunkReply } from './chunk-pool.js';
import { readCsvChunks, type CsvChunk } from './csv-chunks.js';
import type { RecordDelimiter } from './csv-records.js';
import { CsvWriter, DEFAULT_MAX_RECORD_BYTES, readCsv, type CsvReader } from './csv.js';

/**
 * Train/val/test split with exact counts, reproducible from a seed, optionally stratified by a column, for
 * files larger than memory:
 *
 *   pass 1  streams the file and counts rows (and remembers each row's class as a small integer);
 *   plan    decides how many rows of each class go to each part (largest-remainder rounding) and which rows,
 *           drawing with the seeded Rng: one part id per row in a Uint8Array, never the text;
 *   pass 2  streams the file again and writes each row to its part, in the original order.
 *
 * Everything the output depends on (row order, the Rng, integer arithmetic on the ratios) is the same on every
 * machine, so the same input and seed give byte-identical files.
 */

export const PARTS = ['train', 'val', 'test'] as const;
export type PartName = (typeof PARTS)[number];

/**
 * Ratios as typed ("0.7,0.15,0.15"), kept exact: each becomes an integer weight over a common power of ten, so
 * rounding decisions never depend on floating-point error (1000 × 0.7 is exactly 700, and ties are real ties).
 */
export interface Ratios {
  values: number[];
  weights: bigint[];
  /** Sum of the weights: shares are n · weight / total (ratios that sum to 1 within 1e-6 are renormalized). */
  total: bigint;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export function parseRatios(text: string): Ratios {
  const bad = (why: string) => new UserError(`--ratios "${text}": ${why}`);
  const items = text.split(',').map((s) => s.trim());
  if (items.length !== PARTS.length) {
    throw bad(`expected ${PARTS.length} comma-separated numbers (${PARTS.join(',')}), got ${items.length}`);
  }
  for (const item of items) {
    if (!DECIMAL.test(item)) throw bad(`"${item}" is not a decimal number`);
    if (item.startsWith('-') && Number(item) !== 0) throw bad(`"${item}" is negative`);
  }
  const decimals = Math.max(...items.map((s) => (s.split('.')[1] ?? '').length));
  const scale = 10n ** BigInt(decimals);
  const weights = items.map((s) => {
    const [whole, frac = ''] = s.replace(/^[+-]/, '').split('.');
    return BigInt(whole || '0') * scale + BigInt(frac.padEnd(decimals, '0') || '0');
  });
  const total = weights.reduce((a, b) => a + b, 0n);
  const diff = total > scale ? total - scale : scale - total;
  const values = items.map(Number);
  if (diff * 1_000_000n > scale) {
    throw bad(`must sum to 1, they sum to ${+values.reduce((a, b) => a + b, 0).toPrecision(12)}`);
  }
  return { values, weights, total };
}

/**
 * Largest-remainder (Hamilton) rounding of n · ratios: every part gets floor(n · r_i), and the rows left over go
 * one each to the parts with the largest fractional remainders, ties to the earlier part. The counts sum to n
 * exactly, each is within one row of n · r_i, and a part with ratio 0 gets no rows.
 * 1000 rows at 0.7/0.15/0.15 → 700/150/150; 7 rows → 5/1/1 (4.9, 1.05, 1.05).
 */
export function largestRemainder(n: number, ratios: Ratios): number[] {
  return roundShares(n, ratios).counts;
}

function roundShares(n: number, { weights, total }: Ratios): { counts: number[]; floors: number[]; remainders: bigint[] } {
  const big = BigInt(n);
  const floors = weights.map((w) => Number((big * w) / total));
  const remainders = weights.map((w) => (big * w) % total);
  const counts = floors.slice();
  const left = n - floors.reduce((a, b) => a + b, 0);
  const order = counts.map((_, i) => i).sort((a, b) => (remainders[b] > remainders[a] ? 1 : remainders[b] < remainders[a] ? -1 : a - b));
  for (let i = 0; i < left; i++) counts[order[i]]++;
  return { counts, floors, remainders };
}

/**
 * Per-class part counts for a stratified split: cell (class c, part p) is within one row of n_c · r_p (it is
 * rounded down or up), every class keeps all its rows, and the part totals equal largestRemainder(n) exactly.
 *
 * Each class is first rounded on its own (largest remainder). That can leave some parts a few rows over and
 * others under; rows then move one at a time along a path of parts p → … → q from an over-full part to an
 * under-full one, each step taking a class that was rounded up in one part and down in the next (so every cell
 * stays rounded down or up). Such a path always exists while totals differ (a flow argument: the rounding with
 * these totals exists for three parts), so the loop ends with exact totals. Larger classes are offered first (one
 * row changes their share the least).
 */
export function stratifiedCounts(classCounts: number[], ratios: Ratios): number[][] {
  const P = ratios.weights.length;
  const n = classCounts.reduce((a, b) => a + b, 0);
  const totals = largestRemainder(n, ratios);
  const rounded = classCounts.map((nc) => roundShares(nc, ratios));
  const counts = rounded.map((r) => r.counts);
  const up = (c: number, p: number) => counts[c][p] > rounded[c].floors[p];
  const canLose = up;
  const canGain = (c: number, p: number) => !up(c, p) && rounded[c].remainders[p] > 0n;
  const excess = totals.map((t, p) => counts.reduce((s, row) => s + row[p], 0) - t);

  // candidates[p][q]: classes that may move a row from part p to part q; checked again when taken.
  const candidates = Array.from({ length: P }, () => Array.from({ length: P }, () => [] as number[]));
  const offer = (c: number) => {
    for (let p = 0; p < P; p++) {
      if (!canLose(c, p)) continue;
      for (let q = 0; q < P; q++) if (q !== p && canGain(c, q)) candidates[p][q].push(c);
    }
  };
  const bySizeAscending = classCounts.map((_, c) => c).sort((a, b) => classCounts[a] - classCounts[b] || b - a);
  for (const c of bySizeAscending) offer(c); // stacks: the largest class is on top
  const take = (p: number, q: number): number | undefined => {
    const stack = candidates[p][q];
    while (stack.length > 0) {
      const c = stack[stack.length - 1];
      if (canLose(c, p) && canGain(c, q)) return c;
      stack.pop();
    }
    return undefined;
  };

  while (excess.some((e) => e > 0)) {
    // Breadth-first search over parts, from every over-full part to the nearest under-full one.
    const via: { from: number; cls: number }[] = new Array(P);
    const seen = excess.map((e) => e > 0);
    let queue = excess.flatMap((e, p) => (e > 0 ? [p] : []));
    let end = -1;
    while (queue.length > 0 && end < 0) {
      const next: number[] = [];
      for (const p of queue) {
        for (let q = 0; q < P && end < 0; q++) {
          if (seen[q]) continue;
          const c = take(p, q);
          if (c === undefined) continue;
          seen[q] = true;
          via[q] = { from: p, cls: c };
          if (excess[q] < 0) end = q;
          else next.push(q);
        }
      }
      queue = next;
    }
    if (end < 0) throw new Error('stratified split: no rounding with exact part totals (more than 3 parts?)');
    // Walk back from the under-full part to the over-full one it was reached from, moving one row per step.
    const moved: number[] = [];
    let q = end;
    while (via[q] !== undefined) {
      const { from, cls } = via[q];
      counts[cls][from]--;
      counts[cls][q]++;
      moved.push(cls);
      q = from;
    }
    excess[q]--;
    excess[end]++;
    for (const c of moved) offer(c);
  }
  return counts;
}

/**
 * Which part each row goes to: for row i of class c, part p is drawn with probability (rows of class c still
 * owed to p) / (rows of class c not yet placed). The counts come out exact, and every arrangement with those
 * counts is equally likely (sequential sampling), using one Rng draw per row and one byte per row.
 */
export function assignParts(classOf: ArrayLike<number> | null, n: number, counts: number[][], rng: Rng): Uint8Array {
  const owed = counts.map((row) => row.slice());
  const left = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const parts = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = classOf ? classOf[i] : 0;
    const row = owed[c];
    let k = rng.int(left[c]);
    let p = 0;
    while (k >= row[p]) k -= row[p++];
    row[p]--;
    left[c]--;
    parts[i] = p;
  }
  return parts;
}

/** A growable array of small class ids that widens its type only when needed (1, 2 or 4 bytes a row). */
export class ClassIds {
  private data: Uint8Array | Uint16Array | Uint32Array = new Uint8Array(1024);
  length = 0;

  push(id: number): void {
    if (this.length === this.data.length || id > maxOf(this.data)) {
      // ids only grow (0, 1, 2, ... in order of first appearance), so the type only ever widens
      const Type = id > 0xffff || this.data instanceof Uint32Array ? Uint32Array : id > 0xff || this.data instanceof Uint16Array ? Uint16Array : Uint8Array;
      const grown = new Type(this.length === this.data.length ? this.data.length * 2 : this.data.length);
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data[this.length++] = id;
  }

  view(): ArrayLike<number> {
    return this.data.subarray(0, this.length);
  }
}

function maxOf(a: Uint8Array | Uint16Array | Uint32Array): number {
  return a instanceof Uint8Array ? 0xff : a instanceof Uint16Array ? 0xffff : 0xffffffff;
}

export interface SplitOptions {
  input: string;
  outDir: string;
  ratios: string;
  seed: number;
  stratify?: string;
  /** Worker threads that parse chunks of rows in parallel (default: one per core); 1 reads in this thread. */
  workers?: number;
  onProgress?: (pass: 1 | 2, bytes: number, size: number) => void;
}

export interface SplitSummary {
  input: string;
  rows: number;
  seed: number;
  ratios: number[];
  rounding: 'largest remainder';
  order: 'original order within each part';
  stratify: string | null;
  counts: Record<PartName, number>;
  /** Per class (in order of first appearance), rows in each part; only when stratified. */
  classes?: Record<string, Record<PartName, number>>;
}

function byPart(values: number[]): Record<PartName, number> {
  return Object.fromEntries(PARTS.map((p, i) => [p, values[i]])) as Record<PartName, number>;
}

/** Two-pass split of `input` into `<outDir>/{train,val,test}.csv` + `split.json`, all written atomically. */
export async function splitCsv(opts: SplitOptions): Promise<SplitSummary> {
  const ratios = parseRatios(opts.ratios);
  const requireColumns = opts.stratify !== undefined ? [opts.stratify] : [];

  // Pass 1: count rows, and the class of each row when stratified.
  const workers = opts.workers ?? defaultWorkers();
  const first = await readCsv(opts.input, { requireColumns });
  let classIds = new Map<string, number>();
  let classOf = new ClassIds();
  let classCounts: number[] = [];
  let n = 0;
  const count = (label: string | undefined) => {
    n++;
    if (label === undefined) return;
    let id = classIds.get(label);
    if (id === undefined) {
      id = classIds.size;
      classIds.set(label, id);
      classCounts.push(0);
    }
    classCounts[id]++;
    classOf.push(id);
  };
  let counted = false;
  if (workers > 1) {
    first.close();
    const column = opts.stratify !== undefined ? first.header.indexOf(opts.stratify) : -1;
    counted = await inChunks(opts.input, workers, (rd) => ({ kind: 'column', rd, maxRecordBytes: DEFAULT_MAX_RECORD_BYTES, columns: first.header.length, index: column }), (reply, bytes) => {
      if (column < 0) for (let i = 0; i < reply.records; i++) count(undefined);
      else for (const label of reply.values!) count(label);
      opts.onProgress?.(1, bytes, first.size);
    });
    if (!counted) {
      // not the common case: count again in this thread, which words any error
      [classIds, classOf, classCounts, n] = [new Map(), new ClassIds(), [], 0];
    }
  }
  if (!counted) {
    const reader = workers > 1 ? await readCsv(opts.input, { requireColumns }) : first;
    for await (const { record } of reader.rows) {
      count(opts.stratify !== undefined ? record[opts.stratify] : undefined);
      if (opts.onProgress && n % 4096 === 0) opts.onProgress(1, reader.bytesRead(), reader.size);
    }
  }

  // Plan: exact counts per part (and per class), then one part id per row.
  const counts = opts.stratify !== undefined ? stratifiedCounts(classCounts, ratios) : [largestRemainder(n, ratios)];
  const parts = assignParts(opts.stratify !== undefined ? classOf.view() : null, n, counts, new Rng(opts.seed));
  const totals = PARTS.map((_, p) => counts.reduce((s, row) => s + row[p], 0));
  const summary: SplitSummary = {
    input: opts.input,
    rows: n,
    seed: opts.seed,
    ratios: ratios.values,
    rounding: 'largest remainder',
    order: 'original order within each part',
    stratify: opts.stratify ?? null,
    counts: byPart(totals),
    ...(opts.stratify !== undefined ? { classes: Object.fromEntries([...classIds].map(([label, id]) => [label, byPart(counts[id])])) } : {}),
  };

  // Pass 2: write each row to its part; nothing appears in outDir unless every file is complete.
  const created = await ensureDir(opts.outDir);
  const writers: CsvWriter[] = [];
  const jsonPath = join(opts.outDir, 'split.json');
  try {
    const second = await readCsv(opts.input, { requireColumns });
    let written = false;
    if (workers > 1) {
      second.close();
      for (const p of PARTS) writers.push(new CsvWriter(join(opts.outDir, `${p}.csv`), second.header, true));
      written = await writePartsInChunks(opts.input, workers, second.header.length, writers, parts, (bytes) => opts.onProgress?.(2, bytes, second.size));
      if (!written) await Promise.all(writers.splice(0).map((w) => w.abort()));
    }
    if (!written) {
      const reader = workers > 1 ? await readCsv(opts.input, { requireColumns }) : second;
      for (const p of PARTS) writers.push(new CsvWriter(join(opts.outDir, `${p}.csv`), reader.header));
      await writeParts(reader, writers, parts, opts);
    }
    await Promise.all(writers.map((w) => w.finish()));
    await fsp.writeFile(tempPath(jsonPath), `${JSON.stringify(summary, null, 2)}\n`);
    for (const w of writers) await w.commit();
    await fsp.rename(tempPath(jsonPath), jsonPath);
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    await fsp.rm(tempPath(jsonPath), { force: true });
    if (created) await fsp.rmdir(opts.outDir).catch(() => {});
    throw e;
  }
  return summary;
}

async function writeParts(reader: CsvReader, writers: CsvWriter[], parts: Uint8Array, opts: SplitOptions): Promise<void> {
  let i = 0;
  for await (const { record, line } of reader.rows) {
    if (i >= parts.length) throw new UserError(`${opts.input}:${line}: the file changed while it was being split`);
    await writers[parts[i]].write(record);
    i++;
    if (opts.onProgress && i % 4096 === 0) opts.onProgress(2, reader.bytesRead(), reader.size);
  }
  if (i !== parts.length) throw new UserError(`${opts.input}: the file changed while it was being split`);
}

/**
 * Runs a chunk job over the data rows of `input` on worker threads (see chunk-pool.ts); `take` gets each reply
 * with its chunk's record count, in order. False where the chunks do not apply or a worker could not take one.
 */
async function inChunks(
  input: string,
  workers: number,
  job: (rd: RecordDelimiter) => ChunkJob,
  take: (reply: ChunkReply & { records: number }, bytesRead: number) => Promise<void> | void,
  parts?: Uint8Array,
): Promise<boolean> {
  const chunks = await readCsvChunks(input, DEFAULT_MAX_RECORD_BYTES);
  if (chunks === null) return false;
  // a copy of the chunk's part ids: a view would send the whole array with every chunk
  const slice = parts && ((chunk: CsvChunk) => ({ parts: parts.slice(chunk.firstRow - 1, chunk.firstRow - 1 + chunk.records) }));
  const total = parts?.length;
  let rows = 0;
  const ok = await runChunks(
    job(chunks.rd),
    workers,
    chunks.chunks,
    async (reply, chunk) => {
      rows += chunk.records;
      // the file grew since pass 1: more rows than part ids (the one-thread pass says so, at its line)
      if (total !== undefined && rows > total) throw new ChangedFile();
      await take({ ...reply, records: chunk.records }, chunks.bytesRead());
    },
    slice,
  ).catch((e) => {
    if (e instanceof ChangedFile) return false;
    throw e;
  });
  return ok && (total === undefined || rows === total);
}

class ChangedFile extends Error {}

/** Pass 2 on worker threads: each worker formats its rows into the part they were drawn for. */
async function writePartsInChunks(input: string, workers: number, columns: number, writers: CsvWriter[], parts: Uint8Array, onProgress: (bytes: number) => void): Promise<boolean> {
  return inChunks(
    input,
    workers,
    (rd) => ({ kind: 'route', rd, maxRecordBytes: DEFAULT_MAX_RECORD_BYTES, columns, outputs: writers.length }),
    async (reply, bytes) => {
      const texts = reply.outs!;
      const rows = reply.rowsPerOutput!;
      for (let p = 0; p < writers.length; p++) await writers[p].writeFormatted(texts[p], rows[p]);
      onProgress(bytes);
    },
    parts,
  );
}

/** Creates the output folder if needed; returns true if it did (so a failed run can remove it again). */
async function ensureDir(dir: string): Promise<boolean> {
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new UserError(`${dir}: exists and is not a directory`);
    return false;
  } catch (e) {
    if (e instanceof UserError) throw e;
    await fsp.mkdir(dir, { recursive: true });
    return true;
  }
}
