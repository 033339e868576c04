import { stringify } from 'csv-stringify/sync';
import { formatCsvField, formatCsvRow } from '../../../src/data/csv-format.js';

// formatCsvRow must write what CsvWriter's csv-stringify writes (header: true, record_delimiter "\n"), byte for byte.
const VALUES = ['', 'plain', 'a,b', 'say "hi"', '"', '""', 'two\nlines', 'crlf\r\nin', 'lone\rcr', 'ends\r', ' spaced ', 'Café 😀', '=1+2', '-3', '\ufeffbom', '\t'];

describe('formatCsvRow', () => {
  test('the bytes csv-stringify writes, field by field and for whole rows', () => {
    for (const v of VALUES) {
      expect(formatCsvField(v)).toBe(stringify([[v]], { record_delimiter: '\n' }).slice(0, -1));
    }
    const rows = VALUES.map((v, i) => [v, VALUES[(i + 3) % VALUES.length], String(i)]);
    const columns = ['a', 'b,c', 'd"e'];
    const expected = stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))), { header: true, columns, record_delimiter: '\n' });
    expect([columns, ...rows].map(formatCsvRow).join('')).toBe(expected);
  });
});
