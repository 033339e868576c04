import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readCsvChunks, type CsvChunk } from '../../../src/data/csv-chunks.js';
import { parseRecords } from '../../../src/data/csv-records.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'csv-chunks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function all(path: string, chunkBytes: number): Promise<{ rd: string; chunks: CsvChunk[] } | null> {
  const c = await readCsvChunks(path, 1 << 20, chunkBytes);
  if (c === null) return null;
  const chunks: CsvChunk[] = [];
  for await (const chunk of c.chunks) chunks.push(chunk);
  return { rd: c.rd, chunks };
}

const ROWS = ['1,"a, b",x', '2,"two\nlines",y', '', '3,"say ""hi""",z', '4,"crlf\r\nin",w', '5,Café 😀,v', '6,"",u', '7,last,t'];

describe('readCsvChunks', () => {
  for (const [name, rd, bom] of [['lf', '\n', true], ['crlf', '\r\n', false]] as const) {
    for (const size of [1, 7, 64, 1 << 16]) {
      test(`${name}, ${size}-byte chunks: whole records, in order, with their lines and rows; read as csv-parse reads`, async () => {
        const body = Array.from({ length: 5 }, () => ROWS.join(rd)).join(rd);
        const path = file(`${name}.csv`, `${bom ? '\ufeff' : ''}id,text,label${rd}${body}`);
        const { rd: found, chunks } = (await all(path, size))!;
        expect(found).toBe(rd);
        expect(Buffer.concat(chunks.map((c) => c.bytes)).toString()).toBe(body); // the header skipped, nothing lost
        const records = chunks.flatMap((c) => {
          const r = parseRecords(Buffer.from(c.bytes).toString(), rd, c.firstLine, 1 << 20)!;
          expect(r).toHaveLength(c.records);
          return r.map((x, i) => ({ ...x, row: c.firstRow + i }));
        });
        expect(records.map((r) => r.fields)).toEqual(parse(readFileSync(path), { bom: true, from_line: 2, skip_empty_lines: true }));
        expect(records.map((r) => r.row)).toEqual(records.map((_, i) => i + 1));
        expect(records.slice(0, 6).map((r) => r.line)).toEqual([2, 3, 6, 7, 9, 10]);
      });
    }
  }

  test('the last record may lack its line end; trailing blank lines are not records', async () => {
    const { chunks } = (await all(file('end.csv', 'a,b\n1,x\n2,y'), 4))!;
    expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(2);
    const blank = (await all(file('blank.csv', 'a,b\n1,x\n\n\n'), 1 << 16))!;
    expect(blank.chunks.map((c) => c.records)).toEqual([1]);
  });

  test('null for what csv-parse reads its own way: lone \\r line ends, a blank line before the header, a header over lines', async () => {
    expect(await all(file('mac.csv', 'a,b\r1,x\r'), 1 << 16)).toBeNull();
    expect(await all(file('blank-first.csv', '\na,b\n1,x\n'), 1 << 16)).toBeNull();
    expect(await all(file('header-lines.csv', '"a\nb",c\n1,x\n'), 1 << 16)).toBeNull();
  });
});
