import { parse } from 'csv-parse/sync';
import { parseRecords, type RecordDelimiter } from '../../../src/data/csv-records.js';

/** csv-parse's records, with the options readCsv uses. */
const reference = (text: string, rd: RecordDelimiter) => parse(text, { record_delimiter: rd, relax_column_count: true, skip_empty_lines: true }) as string[][];

describe('parseRecords', () => {
  for (const rd of ['\n', '\r\n'] as const) {
    test(`the records csv-parse reads, and their lines (${JSON.stringify(rd)})`, () => {
      const body = [
        '1,plain,x',
        '2,"a, b","say ""hi"""',
        '',
        '3,"two',
        'lines",y',
        '4,,',
        '5,"crlf\r\ninside",lone\rcr',
        '6,"",""""',
        '7,Café 😀,trailing,',
        '8,last',
      ].join(rd);
      const records = parseRecords(body, rd, 10, 1 << 20)!;
      expect(records.map((r) => r.fields)).toEqual(reference(body, rd));
      // lines end with \n: the blank line and the quoted newlines count, a lone \r does not
      expect(records.map((r) => r.line)).toEqual([10, 11, 13, 15, 16, 18, 19, 20]);
      expect(parseRecords(`${body}${rd}`, rd, 10, 1 << 20)).toEqual(records); // a final delimiter changes nothing
    });
  }

  test('null where csv-parse fails or could read otherwise', () => {
    expect(parseRecords('1,ab"c\n', '\n', 2, 1 << 20)).toBeNull(); // a quote inside an unquoted field
    expect(parseRecords('1,"ab"c\n', '\n', 2, 1 << 20)).toBeNull(); // text after the closing quote
    expect(parseRecords('1,"ab"\r\n', '\n', 2, 1 << 20)).toBeNull(); // "\r" after it, where records end with "\n"
    expect(parseRecords('1,"never closed\n2,x\n', '\n', 2, 1 << 20)).toBeNull();
    expect(parseRecords(`1,${'é'.repeat(600)}\n`, '\n', 2, 1000)).toBeNull(); // 1,200 bytes over a 1,000-byte limit
    expect(parseRecords(`1,${'e'.repeat(600)}\n`, '\n', 2, 1000)).not.toBeNull();
  });
});
