import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CsvChunk } from './csv-chunks.js';
import type { RecordDelimiter } from './csv-records.js';
import type { TextJob } from './text-transform.js';

/**
 * Worker threads for the data commands: the main thread reads the file and cuts it into chunks of whole records
 * (csv-chunks.ts), the workers parse and transform them (chunk-worker.ts), and the main thread takes the answers
 * in the file's order, so the output is the same for any number of workers. At most two chunks per worker are in
 * flight: memory stays constant however large the file is.
 */

/** What every worker of a run does with its chunks. */
export type ChunkJob = { rd: RecordDelimiter; maxRecordBytes: number; columns: number } & (
  /** preprocess, augment: the job's value for the text at textIndex goes to outIndex (= columns: a new column). */
  | { kind: 'map'; text: TextJob; textIndex: number; outIndex: number; skipBadRows: boolean }
  /** split's first pass: the values of column `index` (-1: none, the records are only checked). */
  | { kind: 'column'; index: number }
  /** split's second pass: each row, formatted, to the output its part id names. */
  | { kind: 'route'; outputs: number }
);

export interface ChunkRequest extends CsvChunk {
  id: number;
  /** 'route': the output of each record of the chunk. */
  parts?: Uint8Array;
}

export interface ChunkReply {
  id: number;
  /** false: not the common case (or a bad row); the caller reads the file in one thread instead. */
  ok: boolean;
  /** 'map': the output rows, formatted (UTF-8); rows kept and written; ragged rows skipped as [line, fields]; counters. */
  out?: Uint8Array;
  rowsIn?: number;
  rowsOut?: number;
  badRows?: [number, number][];
  counts?: Record<string, number>;
  /** 'column' */
  values?: string[];
  /** 'route': the formatted rows for each output (UTF-8), and how many. */
  outs?: Uint8Array[];
  rowsPerOutput?: number[];
}

/**
 * A worker's young generation, in MB: chunks make short-lived strings, and with V8's default (16 MB semi-spaces)
 * every worker holds that much garbage between collections; a small one keeps the peak RSS near one thread's.
 */
const YOUNG_GENERATION_MB = 4;

/** One worker per core by default. */
export function defaultWorkers(): number {
  return availableParallelism();
}

function workerUrl(): URL {
  const here = new URL('./chunk-worker.js', import.meta.url);
  const path = fileURLToPath(here);
  if (existsSync(path)) return here;
  // under ts-jest this module runs from src/: the worker is the built one
  const built = path.replace(/([\\/])src([\\/]data[\\/]chunk-worker\.js)$/, '$1dist$2');
  if (built !== path && existsSync(built)) return pathToFileURL(built);
  throw new Error(`the data worker is not built (${path} missing): run \`npx tsc -p tsconfig.json\``);
}

/**
 * Runs `job` over `chunks` on `workers` threads and hands each reply to `take` in the chunks' order. Returns false
 * as soon as a worker answers { ok: false } (or fails): nothing after that chunk is taken.
 */
export async function runChunks(
  job: ChunkJob,
  workers: number,
  chunks: AsyncIterable<CsvChunk>,
  take: (reply: ChunkReply, chunk: CsvChunk) => Promise<void> | void,
  extra?: (chunk: CsvChunk) => Pick<ChunkRequest, 'parts'>,
): Promise<boolean> {
  const url = workerUrl();
  const pool = Array.from({ length: workers }, () => new Worker(url, { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }));
  const waiting = new Map<number, { resolve: (r: ChunkReply) => void }>();
  let failed = false;
  const failAll = () => {
    failed = true;
    for (const [id, w] of waiting) w.resolve({ id, ok: false });
    waiting.clear();
  };
  for (const w of pool) {
    w.on('message', (reply: ChunkReply) => {
      waiting.get(reply.id)?.resolve(reply);
      waiting.delete(reply.id);
    });
    w.on('error', failAll);
    w.on('exit', () => waiting.size > 0 && failAll());
  }
  const inFlight: { chunk: CsvChunk; reply: Promise<ChunkReply> }[] = [];
  const takeOldest = async (): Promise<boolean> => {
    const { chunk, reply } = inFlight.shift()!;
    const r = await reply;
    if (!r.ok) return false;
    await take(r, chunk);
    return true;
  };
  let id = 0;
  const reading = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<CsvChunk>;
      try {
        next = await reading.next();
      } catch {
        return false; // e.g. not UTF-8: the one-thread reading words it, at its line
      }
      if (next.done) break;
      const chunk = next.value;
      if (inFlight.length >= 2 * workers && !(await takeOldest())) return false;
      if (failed) return false;
      const request: ChunkRequest = { ...chunk, ...extra?.(chunk), id: id++ };
      const reply = new Promise<ChunkReply>((resolve) => waiting.set(request.id, { resolve }));
      pool[request.id % workers].postMessage(request, [request.bytes.buffer as ArrayBuffer]);
      inFlight.push({ chunk, reply });
    }
    while (inFlight.length > 0) if (!(await takeOldest())) return false;
    return !failed;
  } finally {
    await reading.return?.();
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
