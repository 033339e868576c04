/**
 * The fields of a run of whole CSV records, for the common case only: "," between fields, '"' quotes with ""
 * inside, records ending with the file's record delimiter ("\n" or "\r\n"), blank lines skipped. That is the
 * subset where csv-parse (with the options readCsv gives it) has exactly one reading, so the result is the same
 * as csv-parse's. Anything outside it (a quote inside an unquoted field, text after a closing quote, a quote that
 * never closes, a record over the size limit) returns null instead of a guess: the caller then reads the whole
 * file with csv-parse, which also words the error.
 */

export interface ParsedRecord {
  fields: string[];
  /** 1-based physical line where the record starts (lines end with "\n"). */
  line: number;
}

export type RecordDelimiter = '\n' | '\r\n';

export function parseRecords(text: string, rd: RecordDelimiter, firstLine: number, maxRecordBytes: number): ParsedRecord[] | null {
  const records: ParsedRecord[] = [];
  const len = text.length;
  const rdLen = rd.length;
  let pos = 0;
  let line = firstLine;
  // Next comma and next record delimiter at or after pos, cached: both are searched once per occurrence.
  let comma = -2;
  let end = -2;
  while (pos < len) {
    if (text.startsWith(rd, pos)) {
      pos += rdLen; // blank line
      line++;
      continue;
    }
    const start = pos;
    const fields: string[] = [];
    for (;;) {
      if (text.charCodeAt(pos) === 0x22) {
        let value = '';
        let from = pos + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) return null; // never closed
          if (text.charCodeAt(q + 1) === 0x22) {
            value += text.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          value += text.slice(from, q);
          pos = q + 1;
          break;
        }
        fields.push(value);
        if (pos < len && text.charCodeAt(pos) !== 0x2c && !text.startsWith(rd, pos)) return null; // text after the closing quote
      } else {
        if (comma < pos && comma !== -1) comma = text.indexOf(',', pos);
        if (end < pos && end !== -1) end = text.indexOf(rd, pos);
        const stop = Math.min(comma < 0 ? len : comma, end < 0 ? len : end);
        const value = text.slice(pos, stop);
        if (value.includes('"')) return null; // a quote inside an unquoted field
        fields.push(value);
        pos = stop;
      }
      if (pos >= len) break;
      if (text.charCodeAt(pos) === 0x2c) {
        pos++;
        continue;
      }
      pos += rdLen; // at a record delimiter
      break;
    }
    if ((pos - start) * 3 > maxRecordBytes && Buffer.byteLength(text.slice(start, pos)) > maxRecordBytes) return null;
    records.push({ fields, line });
    for (let i = text.indexOf('\n', start); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  }
  return records;
}
