import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputDir, CsvWriter, mapCsv, readCsv, type CsvRow } from '../../../src/data/csv.js';
import { tempPath, writeFileAtomic } from '../../../src/util/atomic.js';
import { UserError } from '../../../src/util/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'csv-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `f${counter++}.csv`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string, opts: Parameters<typeof readCsv>[1] = {}): Promise<{ header: string[]; rows: CsvRow[] }> {
  const reader = await readCsv(path, opts);
  const rows: CsvRow[] = [];
  for await (const row of reader.rows) rows.push(row);
  return { header: reader.header, rows };
}

/** The error a promise rejects with, checked to be a one-line UserError. */
async function userError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an error');
}

describe('readCsv', () => {
  test('BOM, CRLF, quoted commas, quotes and newlines; row and line numbers', async () => {
    const path = file('\ufeffid,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\r\nlines"\r\n4,plain\r\n');
    const reader = await readCsv(path);
    expect(reader.header).toEqual(['id', 'text']); // no BOM in the first name
    const rows: CsvRow[] = [];
    for await (const row of reader.rows) rows.push(row);
    expect(rows.map((r) => r.record)).toEqual([
      { id: '1', text: 'a, b' },
      { id: '2', text: 'say "hi"' },
      { id: '3', text: 'two\r\nlines' },
      { id: '4', text: 'plain' },
    ]);
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4]);
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 6]); // the quoted newline makes row 3 two lines long
    expect(reader.bytesRead()).toBe(reader.size);
  });

  test('blank lines are skipped; a header-only file is allowed with requireRows: false', async () => {
    expect((await readAll(file('a,b\n\n1,2\n\n'))).rows.map((r) => r.record)).toEqual([{ a: '1', b: '2' }]);
    expect(await readAll(file('a,b\n'), { requireRows: false })).toEqual({ header: ['a', 'b'], rows: [] });
  });

  test('missing file, folder, empty file, BOM only, header only', async () => {
    const missing = join(dir, 'nope.csv');
    expect(await userError(readCsv(missing))).toBe(`${missing}: file not found`);
    expect(await userError(readCsv(dir))).toBe(`${dir}: is a directory, expected a CSV file`);
    const empty = file('');
    expect(await userError(readCsv(empty))).toBe(`${empty}: file is empty (expected a header row)`);
    const bom = file('\ufeff');
    expect(await userError(readCsv(bom))).toBe(`${bom}: file is empty (expected a header row)`);
    const header = file('id,text\n');
    expect(await userError(readCsv(header))).toBe(`${header}: has a header but no data rows`);
  });

  test('a missing column lists the columns there are; a duplicate column is named', async () => {
    const path = file('id,text,label\n1,a,b\n');
    expect(await userError(readCsv(path, { requireColumns: ['review'] }))).toBe(
      `${path}:1: no column "review" (columns: "id", "text", "label")`,
    );
    const dup = file('id,text,id\n1,a,b\n');
    expect(await userError(readCsv(dup))).toBe(`${dup}:1: duplicate column "id" in the header`);
  });

  test('blank lines and CRLFs inside quoted fields do not shift line numbers (rows and errors)', async () => {
    const body = 'id,text\r\n\r\n1,"a\r\nb\r\nc"\r\n\r\n\r\n2,"lone\rcr"\r\n3,x\r\n';
    const { rows } = await readAll(file(body));
    expect(rows.map((r) => [r.record.id, r.line])).toEqual([
      ['1', 3],
      ['2', 8],
      ['3', 9],
    ]);
    const ragged = file(`${body}4,too,many\r\n`);
    expect(await userError(readAll(ragged))).toMatch(/:10: ragged row: 3 fields, but the header has 2$/);
    const unclosed = file(`${body}\r\n4,"open\r\nstill open\r\n`);
    expect(await userError(readAll(unclosed))).toMatch(/:11: unclosed quote/);
  });

  test('a ragged row is an error at its line', async () => {
    const path = file('id,text,label\n1,a,b\n2,"multi\nline",c\n3,short\n4,d,e\n');
    expect(await userError(readAll(path))).toBe(`${path}:5: ragged row: 2 fields, but the header has 3`);
  });

  test('onBadRow skips ragged rows, names their lines, and keeps the following line numbers right', async () => {
    const path = file('id,text,label\n1,a,b\n2,too,many,fields\n3,"multi\nline",c\n4,short\n5,d,e\n');
    const bad: string[] = [];
    const { rows } = await readAll(path, { onBadRow: (e) => bad.push(e.message) });
    expect(bad).toEqual([`${path}:3: ragged row: 4 fields, but the header has 3`, `${path}:6: ragged row: 2 fields, but the header has 3`]);
    expect(rows.map((r) => [r.record.id, r.line])).toEqual([
      ['1', 2],
      ['3', 4],
      ['5', 7],
    ]);
    // other problems still fail
    const unclosed = file('id,text,label\n1,a,b\n2,"never closed,c\n');
    expect(await userError(readAll(unclosed, { onBadRow: () => {} }))).toMatch(/:3: unclosed quote/);
  });

  test('an unclosed quote names the line where its record starts', async () => {
    const path = file('id,text\n1,fine\n2,"opened here\nand never\nclosed\n');
    expect(await userError(readAll(path))).toBe(
      `${path}:3: unclosed quote: the quoted field starting in this record is never closed`,
    );
  });

  test('non-UTF-8 bytes are an error at their line, not U+FFFD', async () => {
    const path = file(Buffer.concat([Buffer.from('id,text\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(await userError(readAll(path))).toBe(
      `${path}:3: not valid UTF-8 (re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8)`,
    );
  });

  test('the UTF-8 error line is right when a character is split across read chunks', async () => {
    // 64 KiB chunks: put a 2-byte "é" across the first boundary, and a bad byte ten lines further on
    const head = 'id,text\n';
    const filler: string[] = [];
    let size = head.length;
    let lines = 1;
    while (size < 65536 - 200) {
      const line = `${lines},${'x'.repeat(90)}\n`;
      filler.push(line);
      size += line.length;
      lines++;
    }
    const pad = `${lines},${'y'.repeat(65536 - size - 1 - `${lines},`.length)}`; // ends one byte before the boundary
    lines++;
    const after = Array.from({ length: 10 }, (_, i) => `${lines + 1 + i},z\n`).join('');
    const content = Buffer.concat([
      Buffer.from(head + filler.join('') + pad),
      Buffer.from('é\n'), // bytes 65535 and 65536: split by the chunk boundary
      Buffer.from(after),
      Buffer.from('99,bad'),
      Buffer.from([0xff]),
      Buffer.from('\n'),
    ]);
    expect(Buffer.from(head + filler.join('') + pad).length).toBe(65535);
    const path = file(content);
    const badLine = lines + 11;
    expect(await userError(readAll(path))).toMatch(new RegExp(`:${badLine}: not valid UTF-8`));
  });

  test('a record over maxRecordBytes is an error naming the limit', async () => {
    const path = file(`id,text\n1,ok\n2,"${'x'.repeat(3000)}"\n`);
    expect(await userError(readAll(path, { maxRecordBytes: 1024 }))).toBe(
      `${path}:3: record larger than the 1 KiB limit (a field this long is usually a broken quote)`,
    );
  });

  test('stopping early closes the file', async () => {
    const reader = await readCsv(file('a\n1\n2\n3\n'));
    for await (const row of reader.rows) {
      expect(row.record.a).toBe('1');
      break;
    }
    // a finished generator yields nothing more
    expect((await reader.rows[Symbol.asyncIterator]().next()).done).toBe(true);
  });
});

describe('CsvWriter', () => {
  test('round-trips fields with commas, quotes and newlines; appears only on commit', async () => {
    const out = join(dir, 'w1.csv');
    const w = new CsvWriter(out, ['id', 'text']);
    await w.write({ id: 1, text: 'a, "b"' });
    await w.write({ id: 2, text: 'two\nlines' });
    await w.write({ id: 3, text: 'cr\r\nlf' });
    expect(existsSync(out)).toBe(false);
    await w.commit();
    expect(readFileSync(out, 'utf8')).toBe('id,text\n1,"a, ""b"""\n2,"two\nlines"\n3,"cr\r\nlf"\n');
    expect(existsSync(tempPath(out))).toBe(false);
    expect(w.rows).toBe(3);
    const back = await readAll(out);
    expect(back.rows.map((r) => r.record.text)).toEqual(['a, "b"', 'two\nlines', 'cr\r\nlf']);
  });

  test('finish() completes the temp file without publishing it; abort() removes it', async () => {
    const out = join(dir, 'w2.csv');
    const w = new CsvWriter(out, ['a']);
    await w.write({ a: 'x' });
    await w.finish();
    expect(readFileSync(tempPath(out), 'utf8')).toBe('a\nx\n');
    expect(existsSync(out)).toBe(false);
    await w.abort();
    expect(existsSync(tempPath(out))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  test('a write error surfaces as one line from write() or commit(), without hanging', async () => {
    const out = join(dir, 'no-such-folder', 'w3.csv');
    const w = new CsvWriter(out, ['a']);
    const writeAll = async () => {
      for (let i = 0; i < 20000; i++) await w.write({ a: 'x'.repeat(100) }); // enough to wait for 'drain'
      await w.commit();
    };
    expect(await userError(writeAll())).toBe(`${out}: its folder does not exist (ENOENT)`);
    await w.abort();
  });

  test('writeFileAtomic and checkOutputDir', async () => {
    const out = join(dir, 'note.txt');
    await writeFileAtomic(out, 'hello');
    expect(readFileSync(out, 'utf8')).toBe('hello');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await expect(checkOutputDir(out)).resolves.toBeUndefined();
    const nowhere = join(dir, 'no', 'such', 'out.csv');
    expect(await userError(checkOutputDir(nowhere))).toBe(`${nowhere}: output folder ${join(dir, 'no', 'such')} does not exist`);
  });
});

describe('mapCsv', () => {
  test('keeps every column, adds one, drops rows mapped to null, and summarizes', async () => {
    const input = file('id,text\n1,keep\n2,drop\n3,keep too\n');
    const output = join(dir, 'mapped.csv');
    const summary = await mapCsv({
      input,
      output,
      requireColumns: ['text'],
      addColumns: ['upper'],
      map: ({ record }) => (record.text === 'drop' ? null : { upper: record.text.toUpperCase() }),
    });
    expect(readFileSync(output, 'utf8')).toBe('id,text,upper\n1,keep,KEEP\n3,keep too,KEEP TOO\n');
    expect(summary).toMatchObject({ bytes: readFileSync(input).length, rowsIn: 3, rowsOut: 2, dropped: 1 });
  });

  test('an error mid-file leaves no output and no temp file', async () => {
    const input = file('id,text\n1,a\n2,b,extra\n');
    const output = join(dir, 'never.csv');
    expect(await userError(mapCsv({ input, output, requireColumns: [], addColumns: ['x'], map: () => ({ x: '1' }) }))).toMatch(
      /:3: ragged row/,
    );
    expect(existsSync(output)).toBe(false);
    expect(existsSync(tempPath(output))).toBe(false);
  });

  test('onBadRow is passed through', async () => {
    const input = file('id,text\n1,a\n2,b,extra\n3,c\n');
    const output = join(dir, 'skipped.csv');
    const bad: string[] = [];
    const summary = await mapCsv({ input, output, requireColumns: [], addColumns: [], onBadRow: (e) => bad.push(e.message), map: () => ({}) });
    expect(bad).toEqual([`${input}:3: ragged row: 3 fields, but the header has 2`]);
    expect(summary).toMatchObject({ rowsIn: 2, rowsOut: 2, dropped: 0 });
    expect(readFileSync(output, 'utf8')).toBe('id,text\n1,a\n3,c\n');
  });
});
