/** Input texts for `infer --input`: plain lines and JSONL decided per line, blank lines, CRLF, BOM, errors by line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseInputLine, readInputFile, readInputTexts, type InputText } from '../../../src/infer/input-texts.js';

async function collect(it: AsyncIterable<InputText>): Promise<InputText[]> {
  const out: InputText[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'infer-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('input texts', () => {
  test('plain and JSONL lines mixed, blank lines skipped, line numbers count every line', async () => {
    const file = join(dir, 'mixed.txt');
    writeFileSync(file, '\uFEFFfirst [MASK] line\r\n\n{"text": "second \\"quoted\\" [MASK]", "id": 7}\r\n   \n"a json string" stays text\nlast line no newline');
    expect(await collect(readInputFile(file))).toEqual([
      { line: 1, text: 'first [MASK] line' },
      { line: 3, text: 'second "quoted" [MASK]' },
      { line: 5, text: '"a json string" stays text' },
      { line: 6, text: 'last line no newline' },
    ]);
  });

  test('a stream split inside a multi-byte character and inside a line reads the same', async () => {
    const bytes = Buffer.from('café [MASK]\n{"text":"naïve"}\n');
    const chunks = Array.from(bytes, (b) => Buffer.from([b])); // one byte per chunk
    expect(await collect(readInputTexts(Readable.from(chunks), '<stdin>'))).toEqual([
      { line: 1, text: 'café [MASK]' }, { line: 2, text: 'naïve' }]);
  });

  test.each([
    ['ok\n{"text": "a"\n', /^bad\.jsonl:2: not valid JSON/],
    ['ok\n\n{"txt": "a"}\n', /^bad\.jsonl:3: a JSONL line must be an object with a string "text" field$/],
    ['{"text": 5}\n', /^bad\.jsonl:1: a JSONL line must be an object/],
  ])('bad JSONL %j → one-line error naming the line', async (content, message) => {
    await expect(collect(readInputTexts(Readable.from([Buffer.from(content)]), 'bad.jsonl'))).rejects.toThrow(message);
  });

  test('non-UTF-8 line and missing file are one-line errors', async () => {
    const bytes = Buffer.concat([Buffer.from('fine\n'), Buffer.from([0x61, 0xff, 0x62, 0x0a])]);
    await expect(collect(readInputTexts(Readable.from([bytes]), 'x.txt'))).rejects.toThrow(/^x\.txt:2: not valid UTF-8$/);
    await expect(collect(readInputFile(join(dir, 'nope.txt')))).rejects.toThrow(/nope\.txt: file not found$/);
  });

  test('parseInputLine: blank → null, leading spaces before { still JSONL', () => {
    expect(parseInputLine('  \t', 'f', 1)).toBeNull();
    expect(parseInputLine('  {"text": "x"}', 'f', 2)).toEqual({ line: 2, text: 'x' });
  });
});
