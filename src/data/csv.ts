import { once } from 'node:events';
import { createReadStream, createWriteStream, promises as fsp, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';
import { tempPath } from '../util/atomic.js';
import { atLine, fsError, UserError } from '../util/errors.js';
import { runChunks, type ChunkJob } from './chunk-pool.js';
import { readCsvChunks } from './csv-chunks.js';
import { formatCsvRow } from './csv-format.js';
import type { TextJob } from './text-transform.js';

/**
 * Streaming CSV in and out, shared by every data command: strict UTF-8, BOM and CRLF handled, quoted fields with
 * commas and newlines, every problem reported as `file:line: what is wrong`, and outputs written to a temporary
 * file that is renamed into place only when the whole file succeeded.
 */

export interface CsvRow {
  record: Record<string, string>;
  /** 1-based data row number (the header is row 0). */
  row: number;
  /** 1-based physical line where the record starts. */
  line: number;
}

export interface CsvReader {
  header: string[];
  rows: AsyncIterable<CsvRow>;
  /** Bytes of the input consumed so far (for progress and MB/s). */
  bytesRead(): number;
  size: number;
  /** Stops reading (the rows were not, or not all, consumed). */
  close(): void;
}

export interface ReadCsvOptions {
  /** Columns that must exist; a missing one is an error that lists the columns there are. */
  requireColumns?: string[];
  /** Reject a header-only file (default true). */
  requireRows?: boolean;
  /** Largest record accepted, in bytes (default 4 MiB): a runaway field is an error, not an out-of-memory. */
  maxRecordBytes?: number;
  /**
   * Skip rows with the wrong number of fields instead of failing: each one is passed to this callback as a
   * `file:line: ragged row ...` error and not yielded. Other problems (quotes, encoding, size) still fail.
   */
  onBadRow?: (error: UserError) => void;
}

export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;

/** Decodes UTF-8 strictly, so non-UTF-8 input fails with the line it is on instead of becoming U+FFFD. */
class StrictUtf8 extends Transform {
  private decoder = new TextDecoder('utf-8', { fatal: true });
  private lines = 1;
  /** Bytes of a character split across the previous chunk's end (held by the decoder). */
  private pending: Buffer = Buffer.alloc(0);
  bytes = 0;

  constructor(private file: string) {
    super({ decodeStrings: true, readableObjectMode: false });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      // Re-decode leniently, with the split character the decoder held, to find the line of the first bad byte.
      const partial = new TextDecoder('utf-8').decode(Buffer.concat([this.pending, chunk]));
      const bad = partial.indexOf('\uFFFD');
      const before = bad < 0 ? '' : partial.slice(0, bad);
      const line = this.lines + countNewlines(before);
      done(atLine(this.file, line, 'not valid UTF-8 (re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8)'));
      return;
    }
    this.lines += countNewlines(text);
    this.pending = incompleteTail(chunk);
    done(null, text);
  }

  override _flush(done: TransformCallback): void {
    try {
      const rest = this.decoder.decode();
      done(null, rest);
    } catch {
      done(atLine(this.file, this.lines, 'file ends inside a UTF-8 character (truncated or not UTF-8)'));
    }
  }
}

/** The last bytes of `chunk` that start a UTF-8 character the chunk does not finish (at most 3). */
function incompleteTail(chunk: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const b = chunk[chunk.length - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? Buffer.from(chunk.subarray(chunk.length - back)) : Buffer.alloc(0);
  }
  return Buffer.alloc(0);
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function fileSize(file: string): number {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UserError(`${file}: is a directory, expected a CSV file`);
    return st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file}: file not found` : `${file}: cannot read (${code})`);
  }
}

/**
 * Maps csv-parse's errors to one line naming the file, the line and the problem. `recordStart` is the line where
 * the record being parsed starts; `current` the line the parser was on.
 */
function csvError(file: string, err: unknown, header: string[] | undefined, recordStart: number, current: number, maxRecordBytes: number): Error {
  if (err instanceof UserError) return err;
  const e = err as { code?: string; record?: string[]; message?: string };
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return atLine(file, recordStart, 'unclosed quote: the quoted field starting in this record is never closed');
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return atLine(file, recordStart, `ragged row: ${e.record?.length ?? '?'} fields, but the header has ${header?.length ?? '?'}`);
    case 'CSV_MAX_RECORD_SIZE':
      return atLine(file, recordStart, `record larger than the ${formatBytes(maxRecordBytes)} limit (a field this long is usually a broken quote)`);
    case 'CSV_INVALID_CLOSING_QUOTE':
      return atLine(file, current, 'invalid closing quote: a quote inside a quoted field must be doubled ("")');
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_OPENING_QUOTE':
      return atLine(file, current, 'a quote inside an unquoted field (quote the whole field and double inner quotes)');
    default:
      return atLine(file, recordStart, e.message ?? String(err));
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function countChar(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}

/** A parsed record as the parser hands it over: where it starts, and its field count when ragged (else -1). */
interface Parsed {
  record: Record<string, string>;
  line: number;
  ragged: number;
}

/** Opens a CSV for streaming and reads its header; rows are read lazily. */
export async function readCsv(file: string, opts: ReadCsvOptions = {}): Promise<CsvReader> {
  const size = fileSize(file);
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (size === 0) throw new UserError(`${file}: file is empty (expected a header row)`);
  const utf8 = new StrictUtf8(file);
  const source = createReadStream(file);
  source.on('error', (e) => utf8.destroy(e));

  // Line numbers are tracked on the parser's side, so errors name the right line even when the parser has run
  // ahead of the consumer. Lines end with \n; csv-parse counts every \r as a line break as well (so a CRLF
  // inside a quoted field counts twice): the \r characters seen inside field values are subtracted.
  let crInFields = 0;
  let parsedEnd = 1; // last line of the last record parsed (the header is line 1)
  let emptyBefore = 0; // blank lines skipped up to that record
  type Context = { lines: number; empty_lines: number; index: number; error?: Error };
  const failing = (e: unknown) => {
    const ctx = e as Partial<Context>;
    const start = parsedEnd + 1 + Math.max(0, (ctx.empty_lines ?? emptyBefore) - emptyBefore);
    return { start, current: Math.max(start, (ctx.lines ?? start) - crInFields) };
  };
  let header: string[] | undefined;
  const parser = parse({
    bom: true,
    columns: (h: string[]) => {
      header = h.map((c) => c.trim());
      return header;
    },
    max_record_size: maxRecordBytes,
    // With onBadRow, ragged records come through (marked by context.error) and are skipped below.
    relax_column_count: opts.onBadRow !== undefined,
    skip_empty_lines: true,
    on_record: (record: Record<string, string>, ctx: Context): Parsed => {
      for (const k in record) if (record[k].includes('\r')) crInFields += countChar(record[k], '\r');
      const line = parsedEnd + 1 + (ctx.empty_lines - emptyBefore);
      parsedEnd = ctx.lines - crInFields;
      emptyBefore = ctx.empty_lines;
      return { record, line, ragged: ctx.error ? ctx.index : -1 };
    },
  });
  utf8.on('error', (e) => parser.destroy(e));
  source.pipe(utf8).pipe(parser);

  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<Parsed>;
  const close = () => {
    source.destroy();
    utf8.destroy();
    parser.destroy();
  };
  const next = async () => {
    try {
      return await iterator.next();
    } catch (e) {
      const { start, current } = failing(e);
      throw csvError(file, e, header, start, current, maxRecordBytes);
    }
  };
  let first: IteratorResult<Parsed>;
  try {
    first = await next();
    if (!header) throw new UserError(`${file}: file is empty (expected a header row)`);
    checkHeader(file, header, opts.requireColumns ?? []);
    if (first.done && opts.requireRows !== false) throw new UserError(`${file}: has a header but no data rows`);
  } catch (e) {
    close();
    throw e;
  }
  const columns = header;

  async function* rows(): AsyncGenerator<CsvRow> {
    let current = first;
    let row = 0;
    try {
      while (!current.done) {
        row++;
        const { record, line, ragged } = current.value;
        if (ragged >= 0 && opts.onBadRow) {
          opts.onBadRow(atLine(file, line, `ragged row: ${ragged} fields, but the header has ${columns.length}`));
        } else {
          yield { record, row, line };
        }
        current = await next();
      }
    } finally {
      close(); // also when the consumer stops early or fails: no open file left behind
    }
  }
  return { header: columns, rows: rows(), bytesRead: () => utf8.bytes, size, close };
}

function checkHeader(file: string, header: string[], required: string[]): void {
  const seen = new Set<string>();
  for (const c of header) {
    if (seen.has(c)) throw atLine(file, 1, `duplicate column "${c}" in the header`);
    seen.add(c);
  }
  for (const c of required) {
    if (!seen.has(c)) {
      throw atLine(file, 1, `no column "${c}" (columns: ${header.map((h) => JSON.stringify(h)).join(', ')})`);
    }
  }
}

/**
 * A CSV written to `<dir>/.<name>.tmp-<pid>` and renamed to `path` by commit(); abort() removes it. Either the
 * whole output appears or none of it.
 */
export class CsvWriter {
  /** Where rows go: csv-stringify (write), or the file itself for rows formatted elsewhere (writeFormatted). */
  private sink: Writable;
  private out: WriteStream;
  private tmp: string;
  private finished: Promise<void>;
  /** The first write error; a writer waiting for 'drain' is woken by it (the stream would never drain). */
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  rows = 0;

  /** `preformatted`: rows come as text from formatCsvRow (writeFormatted), the same bytes csv-stringify writes. */
  constructor(readonly path: string, readonly columns: string[], readonly preformatted = false) {
    this.tmp = tempPath(path);
    this.out = createWriteStream(this.tmp);
    let stringifier: Stringifier | undefined;
    if (preformatted) {
      this.sink = this.out;
      this.out.write(formatCsvRow(columns));
    } else {
      stringifier = stringify({ header: true, columns, record_delimiter: '\n' });
      stringifier.pipe(this.out);
      this.sink = stringifier;
    }
    this.finished = new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        this.failure ??= e;
        this.wake?.();
        reject(this.failure);
      };
      this.out.on('finish', resolve);
      this.out.on('error', (e) => {
        const worded = fsError(e, path, 'write');
        fail(worded instanceof UserError ? worded : new UserError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? e.message})`));
      });
      stringifier?.on('error', fail);
    });
    this.finished.catch(() => {}); // surfaced by write/commit
  }

  async write(record: Record<string, string | number>): Promise<void> {
    if (this.preformatted) throw new Error('CsvWriter.write on a preformatted writer: use writeFormatted');
    this.rows++;
    await this.push(record);
  }

  /** `rows` rows formatted by formatCsvRow, in one string or its UTF-8 bytes. */
  async writeFormatted(text: string | Uint8Array, rows: number): Promise<void> {
    if (!this.preformatted) throw new Error('CsvWriter.writeFormatted on a csv-stringify writer: use write');
    this.rows += rows;
    if (text.length > 0) await this.push(text);
  }

  private async push(chunk: unknown): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.sink.write(chunk)) {
      // One listener per wait, removed when it fires: nothing accumulates over millions of rows.
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.sink.off('drain', wake);
          this.wake = undefined;
          resolve();
        };
        this.wake = wake;
        this.sink.on('drain', wake);
      });
      if (this.failure) throw this.failure;
    }
  }

  /** Flushes and closes the temporary file without renaming it (to commit several outputs together). */
  async finish(): Promise<void> {
    this.sink.end();
    await this.finished;
  }

  async commit(): Promise<void> {
    await this.finish();
    try {
      await fsp.rename(this.tmp, this.path);
    } catch (e) {
      await fsp.rm(this.tmp, { force: true });
      throw fsError(e, this.path, 'write');
    }
  }

  async abort(): Promise<void> {
    if (this.sink !== this.out) this.sink.destroy();
    // The file may still be opening: remove it only after the stream has closed, or the open would recreate it.
    if (!this.out.closed) {
      const closed = once(this.out, 'close').catch(() => {});
      this.out.destroy();
      await closed;
    }
    await fsp.rm(this.tmp, { force: true });
  }
}

/** Fails early with one line if an output file's path is a folder or its folder does not exist. */
export async function checkOutputFile(path: string): Promise<void> {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`${path}: is a folder: give the output a file name`);
  await checkOutputDir(path);
}

/** Fails early with one line if the folder an output goes into does not exist. */
export async function checkOutputDir(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new UserError(`${path}: ${dir} is not a directory`);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}: output folder ${dir} does not exist`);
  }
}

export interface MapCsvSummary {
  /** Size of the input file in bytes. */
  bytes: number;
  rowsIn: number;
  rowsOut: number;
  dropped: number;
  seconds: number;
  mbPerSec: number;
  /** With worker threads: each worker's final counters (TextTransform.counts). */
  counts?: Record<string, number>[];
}

export interface MapCsvOptions {
  input: string;
  output: string;
  requireColumns: string[];
  addColumns: string[];
  maxRecordBytes?: number;
  /** Skip ragged rows, reporting each (see ReadCsvOptions.onBadRow); rowsIn then counts only the rows kept. */
  onBadRow?: (error: UserError) => void;
  map: (row: CsvRow) => Record<string, string> | null | Promise<Record<string, string> | null>;
  onProgress?: (rowsIn: number, bytes: number, size: number) => void;
  /**
   * The same work as `map`, as a job for worker threads: the text of `textColumn` becomes the one added column.
   * With workers > 1 the file is cut into chunks that the workers transform in parallel; the output is the
   * same as map's, byte for byte.
   */
  parallel?: { workers: number; textColumn: string; job: TextJob };
}

/**
 * The shape of preprocess and augment: stream `input`, keep every column, add (or overwrite) `addColumns`
 * from `map`, drop rows for which `map` returns null, write `output` atomically.
 */
export async function mapCsv(opts: MapCsvOptions): Promise<MapCsvSummary> {
  const started = process.hrtime.bigint();
  await checkOutputFile(opts.output);
  let reported = 0;
  if (opts.parallel && opts.parallel.workers > 1 && opts.addColumns.length === 1) {
    const chunked = await mapCsvInChunks(opts, opts.parallel, started);
    if ('summary' in chunked) return chunked.summary;
    reported = chunked.reported;
  }
  // One thread (or a file the chunks do not cover): bad rows a chunked attempt already reported are not repeated.
  let seen = 0;
  const onBadRow = opts.onBadRow && ((e: UserError) => seen++ >= reported && opts.onBadRow!(e));
  const reader = await readCsv(opts.input, {
    requireColumns: opts.requireColumns,
    maxRecordBytes: opts.maxRecordBytes,
    onBadRow,
  });
  const columns = [...reader.header, ...opts.addColumns.filter((c) => !reader.header.includes(c))];
  const writer = new CsvWriter(opts.output, columns);
  let rowsIn = 0;
  try {
    for await (const row of reader.rows) {
      rowsIn++;
      const added = await opts.map(row);
      if (added !== null) await writer.write({ ...row.record, ...added });
      if (opts.onProgress && rowsIn % 1000 === 0) opts.onProgress(rowsIn, reader.bytesRead(), reader.size);
    }
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return summarize(reader.size, rowsIn, writer.rows, started);
}

function summarize(bytes: number, rowsIn: number, rowsOut: number, started: bigint): MapCsvSummary {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { bytes, rowsIn, rowsOut, dropped: rowsIn - rowsOut, seconds, mbPerSec: bytes / 1e6 / Math.max(seconds, 1e-9) };
}

/**
 * mapCsv on worker threads. The header and the first row are read by readCsv first, so every error there is
 * worded as always. A chunk a worker cannot take (a bad row, something outside the common case) ends the attempt:
 * the partial output is removed and mapCsv runs in one thread, which reports the error (`reported`: the bad rows
 * already reported, in order).
 */
async function mapCsvInChunks(
  opts: MapCsvOptions,
  parallel: NonNullable<MapCsvOptions['parallel']>,
  started: bigint,
): Promise<{ summary: MapCsvSummary } | { reported: number }> {
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const probe = await readCsv(opts.input, { requireColumns: opts.requireColumns, maxRecordBytes, onBadRow: opts.onBadRow && (() => {}) });
  probe.close();
  const { header, size } = probe;
  const chunks = await readCsvChunks(opts.input, maxRecordBytes);
  if (chunks === null) return { reported: 0 };
  const columns = [...header, ...opts.addColumns.filter((c) => !header.includes(c))];
  const job: ChunkJob = {
    kind: 'map',
    rd: chunks.rd,
    maxRecordBytes,
    columns: header.length,
    text: parallel.job,
    textIndex: header.indexOf(parallel.textColumn),
    outIndex: columns.indexOf(opts.addColumns[0]),
    skipBadRows: opts.onBadRow !== undefined,
  };
  const writer = new CsvWriter(opts.output, columns, true);
  const counts: Record<string, number>[] = [];
  let rowsIn = 0;
  let reported = 0;
  try {
    const done = await runChunks(job, parallel.workers, chunks.chunks, async (reply) => {
      for (const [line, fields] of reply.badRows!) {
        opts.onBadRow!(atLine(opts.input, line, `ragged row: ${fields} fields, but the header has ${header.length}`));
        reported++;
      }
      await writer.writeFormatted(reply.out!, reply.rowsOut!);
      rowsIn += reply.rowsIn!;
      counts[reply.id % parallel.workers] = reply.counts!;
      opts.onProgress?.(rowsIn, chunks.bytesRead(), size);
    });
    if (!done) {
      await writer.abort();
      return { reported };
    }
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return { summary: { ...summarize(size, rowsIn, writer.rows, started), counts: counts.filter((c) => c !== undefined) } };
}
