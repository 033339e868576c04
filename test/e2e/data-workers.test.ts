import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The data commands on worker threads (--workers 2) against one thread (--workers 1, csv-parse + csv-stringify):
// the same bytes out, the same warnings, the same errors, on files of several chunks (a chunk is 512 KiB).
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TEXTS = [
  'Plain words, nothing else',
  'She said "hi", then left.',
  'two\nlines',
  'crlf\r\ninside',
  'a lone\rcarriage return',
  'Café — naïve “quotes”, ﬁne.',
  'emoji 😀 ok',
  'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ',
  'the and of', // stopwords only: dropped by the seed recipe
  '',
  '   leading and trailing spaces   ',
  'tabs\tand\u0085next line',
];

/** ~`rows` rows of id,text,label; quoted only where needed, as a user's file would be; `eol` between records. */
function csv(rows: number, eol = '\n', bom = false): string {
  const out: string[] = [`${bom ? '\ufeff' : ''}id,text,label`];
  for (let i = 0; i < rows; i++) {
    const t = `${TEXTS[i % TEXTS.length]} ${i % 7 === 0 ? 'the car was fast' : ''}`.trimEnd();
    const quoted = /[",\r\n]/.test(t) || i % 3 === 0 ? `"${t.replaceAll('"', '""')}"` : t;
    out.push(`${i},${quoted},${['pos', 'neg', 'mixed'][i % 3]}`);
    if (i % 1000 === 500) out.push(''); // a blank line now and then
  }
  return `${out.join(eol)}${eol}`;
}

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'workers-e2e-'));
  writeFileSync(join(dir, 'lf.csv'), csv(40_000, '\n', true)); // ~1.5 MB
  writeFileSync(join(dir, 'crlf.csv'), csv(40_000, '\r\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `args` (an output path in it is `OUT`) with --workers 1 and 2; both must give the same result. */
function both(args: string[], outputs: string[]) {
  const results = [1, 2].map((w) => {
    const r = run([...args.map((a) => a.replace('OUT', `w${w}`)), '--workers', String(w)], dir);
    const files = outputs.map((o) => {
      const path = join(dir, o.replace('OUT', `w${w}`));
      return existsSync(path) ? readFileSync(path) : null;
    });
    const stderr = r.stderr.replaceAll(`w${w}`, 'OUT').replace(/\d+(\.\d+)? MB\/s/, 'MB/s').replace(/\[[\d:.]+\] /g, '');
    return { code: r.code, files, stderr, stdout: r.stdout };
  });
  expect(results[1].code).toBe(results[0].code);
  results[1].files.forEach((f, i) => expect(f?.equals(results[0].files[i]!) ?? f).toEqual(f === null ? results[0].files[i] : true));
  return results;
}

/** The first line from `from` on that is a whole record with an unquoted text (a field can go at its end). */
function wholeRecordAt(lines: string[], from: number): number {
  for (let i = from; i < lines.length; i++) if (/^\d+,[^"]*,(pos|neg|mixed)$/.test(lines[i])) return i;
  throw new Error(`no whole record after line ${from}`);
}

const summaryOf = (stdout: string) => {
  const { seconds: _s, mbPerSec: _m, rowsPerSec: _r, wordnetLoadMs: _w, output: _o, ...rest } = JSON.parse(stdout);
  return rest;
};

describe('--workers: the same output for any number of workers', () => {
  for (const file of ['lf.csv', 'crlf.csv']) {
    for (const recipe of ['seed', 'lm']) {
      test(`preprocess --recipe ${recipe}, ${file} (quotes, newlines, ${file === 'lf.csv' ? 'BOM' : 'CRLF'}, non-ASCII, blank lines)`, () => {
        const [one, two] = both(['preprocess', file, '-o', 'OUT.csv', '--recipe', recipe, '--json'], ['OUT.csv']);
        expect(one.code).toBe(0);
        expect(one.files[0]!.length).toBeGreaterThan(1 << 20); // several chunks
        expect(summaryOf(two.stdout)).toEqual(summaryOf(one.stdout));
      });
    }
  }

  test('ragged rows with --skip-bad-rows: the same warnings (file:line), rows and summary', () => {
    const lines = readFileSync(join(dir, 'lf.csv'), 'utf8').split('\n');
    const at = [3, 20_000, lines.length - 40].map((from) => wholeRecordAt(lines, from));
    for (const i of at) lines[i] = `${lines[i]},extra`;
    writeFileSync(join(dir, 'ragged.csv'), lines.join('\n'));
    const [one, two] = both(['preprocess', 'ragged.csv', '-o', 'OUT.csv', '--skip-bad-rows', '--json'], ['OUT.csv']);
    expect(one.code).toBe(0);
    const warnings = (s: string) => s.split('\n').filter((l) => l.includes('ragged row'));
    expect(warnings(one.stderr)).toHaveLength(3);
    expect(warnings(one.stderr)[0]).toContain(`ragged.csv:${at[0] + 1}: ragged row: 4 fields, but the header has 3`);
    expect(warnings(two.stderr)).toEqual(warnings(one.stderr));
    expect(summaryOf(two.stdout)).toEqual(summaryOf(one.stdout));
  });

  test('a bad row in the last chunk: the same one-line error at its line, no output left behind', () => {
    const lines = readFileSync(join(dir, 'lf.csv'), 'utf8').split('\n');
    const at = wholeRecordAt(lines, lines.length - 20);
    lines[at] = `${lines[at]},extra`;
    writeFileSync(join(dir, 'bad-end.csv'), lines.join('\n'));
    const before = readdirSync(dir).sort();
    const [one, two] = both(['preprocess', 'bad-end.csv', '-o', 'OUT.csv'], ['OUT.csv']);
    expect(one.code).not.toBe(0);
    expect(one.stderr.trim()).toBe(`compactlm: error: bad-end.csv:${at + 1}: ragged row: 4 fields, but the header has 3`);
    expect(two.stderr).toBe(one.stderr);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  test('a stray quote or a byte that is not UTF-8 in a middle chunk: the same error', () => {
    const text = readFileSync(join(dir, 'lf.csv'), 'utf8');
    const lines = text.split('\n');
    lines[25_000] = lines[25_000].replace(/^(\d+),/, '$1,x"y ');
    writeFileSync(join(dir, 'quote.csv'), lines.join('\n'));
    const cut = Buffer.byteLength(text.slice(0, Math.floor(text.length * 0.6)));
    const bytes = Buffer.from(text);
    writeFileSync(join(dir, 'latin1.csv'), Buffer.concat([bytes.subarray(0, cut), Buffer.from([0xe9]), bytes.subarray(cut)]));
    const [quote] = both(['preprocess', 'quote.csv', '-o', 'OUT.csv'], ['OUT.csv']);
    expect(quote.stderr).toMatch(/^compactlm: error: quote\.csv:\d+: a quote inside an unquoted field/);
    const [latin1] = both(['preprocess', 'latin1.csv', '-o', 'OUT.csv'], ['OUT.csv']);
    expect(latin1.stderr).toMatch(/^compactlm: error: latin1\.csv:\d+: not valid UTF-8/);
  });

  test('split --stratify: the same four files', () => {
    const parts = ['train.csv', 'val.csv', 'test.csv', 'split.json'].map((f) => `OUT/${f}`);
    const [one, two] = both(['split', 'crlf.csv', '--out', 'OUT', '--stratify', 'label', '--json'], parts);
    expect(one.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
  });

  test('augment: the same rows, drawn with the same per-row generators', () => {
    writeFileSync(join(dir, 'small.csv'), csv(15_000)); // augment is the slow one: still two chunks
    const [one, two] = both(['augment', 'small.csv', '-o', 'OUT.csv', '--seed', '7', '--json'], ['OUT.csv']);
    expect(one.code).toBe(0);
    expect(summaryOf(two.stdout)).toEqual(summaryOf(one.stdout));
  });
});
