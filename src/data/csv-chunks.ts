import { createReadStream } from 'node:fs';
import type { RecordDelimiter } from './csv-records.js';

/**
 * A CSV file as runs of whole records ("chunks" of about CHUNK_BYTES bytes), for worker threads to decode, parse
 * and transform in parallel while the main thread only reads and writes. The chunks are raw bytes: in UTF-8 a
 * quote or a line end is one byte that never occurs inside another character, so boundaries are found without
 * decoding, and the workers check the UTF-8. A record delimiter outside quotes ends a record (quote parity), which
 * is csv-parse's reading of every file it accepts; a file it rejects makes a worker's parse fail, and the caller
 * falls back to csv-parse. Each chunk says where it starts (line, data row) and how many records it holds, so row
 * numbers never depend on which worker parsed it.
 */

export interface CsvChunk {
  /** The chunk's bytes, in an ArrayBuffer of their own (it is transferred to a worker). */
  bytes: Uint8Array;
  /** 1-based physical line of the chunk's first byte. */
  firstLine: number;
  /** 1-based data row number of its first record. */
  firstRow: number;
  /** Records in it (blank lines are not records). */
  records: number;
}

export interface CsvChunks {
  rd: RecordDelimiter;
  chunks: AsyncGenerator<CsvChunk>;
  bytesRead(): number;
}

export const CHUNK_BYTES = 1 << 19;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

function countNewlines(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = b.indexOf(LF, from); i >= 0 && i < to; i = b.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Opens `file` (already checked by readCsv: it exists and has a good header) and skips its header record.
 * Returns null where the chunked reading does not apply (records ending with a lone "\r" as in old Mac files,
 * blank lines before the header, a header over several lines): csv-parse reads those.
 */
export async function readCsvChunks(file: string, maxRecordBytes: number, chunkBytes = CHUNK_BYTES): Promise<CsvChunks | null> {
  const source = createReadStream(file, { highWaterMark: chunkBytes });
  const pieces = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let bytesRead = 0;
  let buf: Buffer = Buffer.alloc(0);
  /** Appends the next piece of the file to buf[from..]; false at the end of the file. */
  const more = async (from: number): Promise<boolean> => {
    const r = await pieces.next();
    if (r.done) return false;
    bytesRead += r.value.length;
    buf = from >= buf.length ? r.value : Buffer.concat([buf.subarray(from), r.value]);
    return true;
  };

  // The header: its line end (outside quotes) is the record delimiter.
  let rd: RecordDelimiter | undefined;
  let headerEnd = -1;
  try {
    let pos = 0;
    let quoted = false;
    for (;;) {
      if (pos >= buf.length) {
        if (pos > maxRecordBytes || !(await more(0))) break; // no header end in sight: csv-parse says why
        continue;
      }
      const c = buf[pos];
      if (c === QUOTE) quoted = !quoted;
      else if (!quoted && (c === LF || c === CR)) {
        if (c === CR && pos + 1 >= buf.length && (await more(0))) continue;
        if (c === CR && buf[pos + 1] !== LF) break; // a lone \r ends records
        const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
        if (pos > bom && countNewlines(buf, 0, pos) === 0) rd = c === CR ? '\r\n' : '\n';
        headerEnd = pos + (c === CR ? 2 : 1);
        break;
      }
      pos++;
    }
  } catch (e) {
    source.destroy();
    throw e;
  }
  if (rd === undefined) {
    source.destroy();
    return null;
  }
  const delimiter = Buffer.from(rd);

  async function* chunks(): AsyncGenerator<CsvChunk> {
    try {
      let lines = 2; // the header is line 1
      let row = 1;
      let start = headerEnd; // where the next chunk starts in buf
      let pos = start; // scanned up to here, outside quotes
      let recordStart = start;
      let records = 0;
      const emit = (end: number, count: number): CsvChunk => {
        const bytes = new Uint8Array(end - start);
        bytes.set(buf.subarray(start, end));
        const chunk = { bytes, firstLine: lines, firstRow: row, records: count };
        lines += countNewlines(bytes, 0, bytes.length);
        row += count;
        return chunk;
      };
      // Next quote and next record delimiter at or after pos (-2: to search, -1: none in buf).
      let quote = -2;
      let end = -2;
      for (;;) {
        if (quote < pos && quote !== -1) quote = buf.indexOf(QUOTE, pos);
        if (end < pos && end !== -1) end = buf.indexOf(delimiter, pos);
        if (end >= 0 && (quote < 0 || end < quote)) {
          if (end > recordStart) records++;
          pos = recordStart = end + delimiter.length;
          if (pos - start >= chunkBytes) {
            yield emit(pos, records);
            records = 0;
            start = pos;
          }
          continue;
        }
        if (quote >= 0) {
          // a quoted stretch: skip to its closing quote (a "" inside toggles twice: the search goes on after it)
          const close = buf.indexOf(QUOTE, quote + 1);
          if (close >= 0) {
            pos = close + 1;
            continue;
          }
        }
        if (buf.length - recordStart > maxRecordBytes) {
          // a record over the limit (or a quote that never closes): the worker's parse fails on it, the caller
          // falls back to csv-parse, which names it
          yield emit(buf.length, records + 1);
          return;
        }
        // Read on, keeping what is not yet emitted (the searches start again at pos, so a delimiter split
        // across pieces is found).
        const keep = start;
        if (!(await more(keep))) break;
        start -= keep;
        pos -= keep;
        recordStart -= keep;
        quote = end = -2;
      }
      if (buf.length > recordStart) records++; // the last record, without a delimiter (or never closed)
      if (records > 0) yield emit(buf.length, records);
    } finally {
      source.destroy();
    }
  }
  return { rd, chunks: chunks(), bytesRead: () => bytesRead };
}
