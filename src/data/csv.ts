import { createReadStream, createWriteStream, promises as fsp, statSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify, type Stringifier } from 'csv-stringify';
import { atLine, UserError } from '../util/errors.js';

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
}

export interface ReadCsvOptions {
  /** Columns that must exist; a missing one is an error that lists the columns there are. */
  requireColumns?: string[];
  /** Reject a header-only file (default true). */
  requireRows?: boolean;
  /** Largest record accepted, in bytes (default 4 MiB): a runaway field is an error, not an out-of-memory. */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;

/** Decodes UTF-8 strictly, so non-UTF-8 input fails with the line it is on instead of becoming U+FFFD. */
class StrictUtf8 extends Transform {
  private decoder = new TextDecoder('utf-8', { fatal: true });
  private lines = 1;
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
      const partial = new TextDecoder('utf-8').decode(chunk);
      const bad = partial.indexOf('\uFFFD');
      const before = bad < 0 ? '' : partial.slice(0, bad);
      const line = this.lines + countNewlines(before);
      done(atLine(this.file, line, 'not valid UTF-8 (re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8)'));
      return;
    }
    this.lines += countNewlines(text);
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

/** Maps csv-parse's errors to one line naming the file, the line and the problem. */
function csvError(file: string, err: unknown, header: string[] | undefined, recordStart: number): Error {
  if (err instanceof UserError) return err;
  const e = err as { code?: string; lines?: number; record?: string[]; message?: string };
  const line = e.lines;
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return atLine(file, recordStart, 'unclosed quote: the quoted field starting in this record is never closed');
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
      return atLine(file, line, `ragged row: ${e.record?.length ?? '?'} fields, but the header has ${header?.length ?? '?'}`);
    case 'CSV_MAX_RECORD_SIZE':
      return atLine(file, recordStart, 'record larger than the 4 MiB limit (a field this long is usually a broken quote)');
    case 'CSV_INVALID_CLOSING_QUOTE':
      return atLine(file, line, 'invalid closing quote: a quote inside a quoted field must be doubled ("")');
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_OPENING_QUOTE':
      return atLine(file, line, 'a quote inside an unquoted field (quote the whole field and double inner quotes)');
    default:
      return atLine(file, line, e.message ?? String(err));
  }
}

/** Opens a CSV for streaming and reads its header; rows are read lazily. */
export async function readCsv(file: string, opts: ReadCsvOptions = {}): Promise<CsvReader> {
  const size = fileSize(file);
  if (size === 0) throw new UserError(`${file}: file is empty (expected a header row)`);
  const utf8 = new StrictUtf8(file);
  const source = createReadStream(file);
  source.on('error', (e) => utf8.destroy(e));
  let header: string[] | undefined;
  const parser = parse({
    bom: true,
    columns: (h: string[]) => {
      header = h.map((c) => c.trim());
      return header;
    },
    info: true,
    max_record_size: opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    skip_empty_lines: true,
  });
  utf8.on('error', (e) => parser.destroy(e));
  source.pipe(utf8).pipe(parser);

  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: Record<string, string>; info: { lines: number; records: number } }>;
  let first: IteratorResult<{ record: Record<string, string>; info: { lines: number; records: number } }>;
  try {
    first = await iterator.next();
  } catch (e) {
    throw csvError(file, e, header, 2);
  }
  if (!header) throw new UserError(`${file}: file is empty (expected a header row)`);
  checkHeader(file, header, opts.requireColumns ?? []);
  if (first.done && opts.requireRows !== false) throw new UserError(`${file}: has a header but no data rows`);

  let previousEnd = 1; // lines are counted by csv-parse at the end of each record
  async function* rows(): AsyncGenerator<CsvRow> {
    let current = first;
    let row = 0;
    while (!current.done) {
      row++;
      const start = previousEnd + 1;
      previousEnd = current.value.info.lines;
      yield { record: current.value.record, row, line: start };
      try {
        current = await iterator.next();
      } catch (e) {
        throw csvError(file, e, header, previousEnd + 1);
      }
    }
  }
  return { header, rows: rows(), bytesRead: () => utf8.bytes, size };
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
  private stringifier: Stringifier;
  private out: WriteStream;
  private tmp: string;
  private finished: Promise<void>;
  rows = 0;

  constructor(readonly path: string, readonly columns: string[]) {
    this.tmp = tempPath(path);
    this.out = createWriteStream(this.tmp);
    this.stringifier = stringify({ header: true, columns, record_delimiter: '\n' });
    this.stringifier.pipe(this.out);
    this.finished = new Promise((resolve, reject) => {
      this.out.on('finish', resolve);
      this.out.on('error', (e) => reject(new UserError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
      this.stringifier.on('error', reject);
    });
    this.finished.catch(() => {}); // surfaced by write/commit
  }

  async write(record: Record<string, string | number>): Promise<void> {
    this.rows++;
    if (!this.stringifier.write(record)) {
      await new Promise<void>((resolve, reject) => {
        this.stringifier.once('drain', resolve);
        this.finished.catch(reject);
      });
    }
  }

  async commit(): Promise<void> {
    this.stringifier.end();
    await this.finished;
    await fsp.rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.stringifier.destroy();
    this.out.destroy();
    await fsp.rm(this.tmp, { force: true });
  }
}

/** Temporary sibling of `path` (same folder, so the final rename is atomic). */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/** Writes a whole text/binary file atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPath(path);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
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
  rowsIn: number;
  rowsOut: number;
  dropped: number;
  seconds: number;
  mbPerSec: number;
}

/**
 * The shape of preprocess and augment: stream `input`, keep every column, add (or overwrite) `addColumns`
 * from `map`, drop rows for which `map` returns null, write `output` atomically.
 */
export async function mapCsv(opts: {
  input: string;
  output: string;
  requireColumns: string[];
  addColumns: string[];
  maxRecordBytes?: number;
  map: (row: CsvRow) => Record<string, string> | null | Promise<Record<string, string> | null>;
  onProgress?: (rowsIn: number, bytes: number, size: number) => void;
}): Promise<MapCsvSummary> {
  const started = process.hrtime.bigint();
  await checkOutputDir(opts.output);
  const reader = await readCsv(opts.input, { requireColumns: opts.requireColumns, maxRecordBytes: opts.maxRecordBytes });
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
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    rowsIn,
    rowsOut: writer.rows,
    dropped: rowsIn - writer.rows,
    seconds,
    mbPerSec: reader.size / 1e6 / Math.max(seconds, 1e-9),
  };
}
