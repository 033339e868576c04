import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

// Drives the built CLI (npm test builds dist/ first; or run `npx tsc -p tsconfig.json`).
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readRows = (file: string) => parse(readFileSync(file), { columns: true, bom: true }) as Record<string, string>[];

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'pp-e2e-'));
  copyFileSync(join(root, 'test/fixtures/pp-reviews.csv'), join(dir, 'reviews.csv'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A failed run: non-zero exit, one line on stderr naming `where`, no stack trace, nothing new in the folder. */
function expectCleanFailure(args: string[], where: string, message: RegExp) {
  const before = readdirSync(dir).sort();
  const r = run(args, dir);
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`compactlm: error: ${where}`)).toBe(true);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
  expect(readdirSync(dir).sort()).toEqual(before); // no output, no temp file
}

describe('compactlm preprocess', () => {
  test('lm recipe (default): keeps every column, adds cleaned_text, drops rows left empty, prints a summary', () => {
    const r = run(['preprocess', 'reviews.csv', '-o', 'lm.csv', '--text-column', 'review', '--json'], dir);
    expect(r.code).toBe(0);
    const rows = readRows(join(dir, 'lm.csv'));
    expect(Object.keys(rows[0])).toEqual(['id', 'review', 'rating', 'cleaned_text']);
    expect(rows.map((row) => [row.id, row.cleaned_text])).toEqual([
      ['1', 'Great product!! Works as described, 10/10.'],
      ['2', 'The box arrived late and DAMAGED... not happy'],
      ['3', 'Café crème — naïve FULL fine'],
      ['4', '!!! 123'],
      ['5', 'It is what it is'],
    ]);
    const input = readRows(join(dir, 'reviews.csv'));
    rows.forEach((row, i) => expect({ ...row, cleaned_text: undefined }).toEqual({ ...input[i], cleaned_text: undefined }));
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ recipe: 'lm', rowsIn: 6, rowsOut: 5, dropped: 1, skipped: 0, output: 'lm.csv' });
    expect(summary.mbPerSec).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/6 rows in, 5 out, 1 dropped/);
  });

  test('seed recipe matches the Python seed', () => {
    const r = run(['preprocess', 'reviews.csv', '-o', 'seed.csv', '--text-column', 'review', '--recipe', 'seed', '--json'], dir);
    expect(r.code).toBe(0);
    // Python: re.sub(r'[^a-zA-Z\s]', '', text.lower()).split(), NLTK stopwords removed
    expect(readRows(join(dir, 'seed.csv')).map((row) => [row.id, row.cleaned_text])).toEqual([
      ['1', 'great product works described'],
      ['2', 'box arrived late damaged happy'],
      ['3', 'caf crme nave ne'],
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ recipe: 'seed', rowsIn: 6, rowsOut: 3, dropped: 3 });
  });

  test('BOM, CRLF and quoted commas/newlines round-trip; default text column is "text"', () => {
    writeFileSync(join(dir, 'crlf.csv'), '\ufeffid,text\r\n1,"a, b"\r\n2,"two\r\nlines"\r\n3,"say ""hi"""\r\n');
    const r = run(['preprocess', 'crlf.csv', '-o', 'crlf.out.csv'], dir);
    expect(r.code).toBe(0);
    const out = readFileSync(join(dir, 'crlf.out.csv'), 'utf8');
    expect(out.startsWith('id,text,cleaned_text\n')).toBe(true); // no BOM carried into the header
    expect(readRows(join(dir, 'crlf.out.csv'))).toEqual([
      { id: '1', text: 'a, b', cleaned_text: 'a, b' },
      { id: '2', text: 'two\r\nlines', cleaned_text: 'two lines' },
      { id: '3', text: 'say "hi"', cleaned_text: 'say "hi"' },
    ]);
  });

  test('--skip-bad-rows skips a ragged row with a warning naming file:line', () => {
    writeFileSync(join(dir, 'ragged-ok.csv'), 'id,text\n1,one\n2,"multi\nline",extra\n3,three\n');
    const r = run(['preprocess', 'ragged-ok.csv', '-o', 'skipped.csv', '--skip-bad-rows', '--json'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ragged-ok\.csv:3: ragged row: 3 fields, but the header has 2/);
    expect(readRows(join(dir, 'skipped.csv')).map((row) => row.id)).toEqual(['1', '3']);
    expect(JSON.parse(r.stdout)).toMatchObject({ rowsIn: 3, rowsOut: 2, dropped: 0, skipped: 1 });
  });

  describe('without -o (the card\'s `compactlm preprocess raw.csv`)', () => {
    let sub: string;
    beforeEach(() => {
      sub = mkdtempSync(join(dir, 'default-'));
      copyFileSync(join(root, 'test/fixtures/pp-reviews.csv'), join(sub, 'raw.csv'));
    });
    afterEach(() => rmSync(sub, { recursive: true, force: true }));

    test('writes raw.clean.csv next to the input and says so on stderr', () => {
      mkdirSync(join(sub, 'data'));
      copyFileSync(join(sub, 'raw.csv'), join(sub, 'data', 'raw.csv'));
      const r = run(['preprocess', 'raw.csv', '--text-column', 'review'], sub);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/wrote raw\.clean\.csv \(the default: no -o given\)/);
      expect(readRows(join(sub, 'raw.clean.csv')).map((row) => row.cleaned_text)).toHaveLength(5);
      // next to the input, wherever the input is
      const nested = run(['preprocess', join('data', 'raw.csv'), '--text-column', 'review', '--json'], sub);
      expect(nested.code).toBe(0);
      expect(JSON.parse(nested.stdout)).toMatchObject({ output: join('data', 'raw.clean.csv'), rowsOut: 5 });
      expect(readdirSync(join(sub, 'data')).sort()).toEqual(['raw.clean.csv', 'raw.csv']);
      // run again: an earlier output (not an input) is replaced
      expect(run(['preprocess', 'raw.csv', '--text-column', 'review'], sub).code).toBe(0);
      expect(readdirSync(sub).sort()).toEqual(['data', 'raw.clean.csv', 'raw.csv']);
    });

    test('refuses when raw.clean.csv is the input itself (a link to it): nothing written, the input untouched', () => {
      for (const link of [symlinkSync, linkSync]) {
        link(join(sub, 'raw.csv'), join(sub, 'raw.clean.csv'));
        const before = readFileSync(join(sub, 'raw.csv'));
        const r = run(['preprocess', 'raw.csv', '--text-column', 'review'], sub);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe('compactlm: error: the default output raw.clean.csv is the input raw.csv: choose another output (a command never overwrites its input)\n');
        expect(readFileSync(join(sub, 'raw.csv'))).toEqual(before);
        expect(readdirSync(sub).sort()).toEqual(['raw.clean.csv', 'raw.csv']);
        rmSync(join(sub, 'raw.clean.csv'));
      }
    });
  });

  test('--help shows the recipes and an example', () => {
    const r = run(['preprocess', '--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--recipe <name>/);
    expect(r.stdout).toMatch(/lm \| seed/);
    expect(r.stdout).toMatch(/Example:\n\s+\$ compactlm preprocess raw\.csv\s+# → raw\.clean\.csv/);
    expect(r.stdout).toMatch(/-o, --output <file>/);
  });

  describe('bad input: one line naming the file (and line), no output', () => {
    test('missing file', () => {
      expectCleanFailure(['preprocess', 'nope.csv', '-o', 'o.csv'], 'nope.csv: ', /file not found/);
    });

    test('missing column lists the columns', () => {
      expectCleanFailure(['preprocess', 'reviews.csv', '-o', 'o.csv'], 'reviews.csv:1: ', /no column "text" \(columns: "id", "review", "rating"\)/);
    });

    test('empty file', () => {
      writeFileSync(join(dir, 'empty.csv'), '');
      expectCleanFailure(['preprocess', 'empty.csv', '-o', 'o.csv'], 'empty.csv: ', /file is empty/);
    });

    test('header only', () => {
      writeFileSync(join(dir, 'header.csv'), 'id,text\n');
      expectCleanFailure(['preprocess', 'header.csv', '-o', 'o.csv'], 'header.csv: ', /has a header but no data rows/);
    });

    test('ragged row', () => {
      writeFileSync(join(dir, 'ragged.csv'), 'id,text\n1,one\n2,two\n3,three,extra\n4,four\n');
      expectCleanFailure(['preprocess', 'ragged.csv', '-o', 'o.csv'], 'ragged.csv:4: ', /ragged row: 3 fields, but the header has 2/);
    });

    test('unclosed quote', () => {
      writeFileSync(join(dir, 'unclosed.csv'), 'id,text\r\n1,"fine"\r\n2,"starts here\r\nand never ends\r\n');
      expectCleanFailure(['preprocess', 'unclosed.csv', '-o', 'o.csv'], 'unclosed.csv:3: ', /unclosed quote/);
    });

    test('non-UTF-8 bytes', () => {
      writeFileSync(join(dir, 'latin1.csv'), Buffer.from('id,text\n1,ok\n2,caf\xe9 cr\xe8me\n', 'latin1'));
      expectCleanFailure(['preprocess', 'latin1.csv', '-o', 'o.csv'], 'latin1.csv:3: ', /not valid UTF-8/);
    });

    test('a 10 MB field', () => {
      writeFileSync(join(dir, 'huge.csv'), `id,text\n1,ok\n2,"${'x'.repeat(10 * 1024 * 1024)}"\n3,ok\n`);
      expectCleanFailure(['preprocess', 'huge.csv', '-o', 'o.csv'], 'huge.csv:3: ', /record larger than the 4 MiB limit/);
    });

    test('unknown recipe lists the recipes (checked by the CLI before anything is read)', () => {
      expectCleanFailure(['preprocess', 'reviews.csv', '-o', 'o.csv', '--recipe', 'bert'], "option '--recipe <name>' argument 'bert' is invalid", /"bert" is not one of: lm, seed\.$/);
    });

    test('-o the input itself, or a link to it: refused, the input untouched', () => {
      const before = readFileSync(join(dir, 'reviews.csv'));
      expectCleanFailure(['preprocess', 'reviews.csv', '-o', 'reviews.csv', '--text-column', 'review'], '-o reviews.csv is the input reviews.csv', /never overwrites its input/);
      symlinkSync('reviews.csv', join(dir, 'alias.csv'));
      try {
        expectCleanFailure(['preprocess', 'reviews.csv', '-o', 'alias.csv', '--text-column', 'review'], '-o alias.csv is the input reviews.csv', /never overwrites its input/);
      } finally {
        rmSync(join(dir, 'alias.csv'));
      }
      expect(readFileSync(join(dir, 'reviews.csv'))).toEqual(before);
    });

    test('output folder missing', () => {
      expectCleanFailure(['preprocess', 'reviews.csv', '-o', 'no/such/o.csv', '--text-column', 'review'], 'no/such/o.csv: ', /does not exist/);
    });
  });
});
