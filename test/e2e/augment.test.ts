import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

// Drives the built CLI (npm test builds dist/ first; or run `npx tsc -p tsconfig.json`).
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const fixture = join(root, 'test/fixtures/aug-small.csv');

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fixtures' text is in cleaned_text (what `compactlm preprocess` adds); the default column is text. */
const TEXT = ['--text-column', 'cleaned_text'];

const readRows = (file: string) => parse(readFileSync(file), { columns: true }) as Record<string, string>[];

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'aug-e2e-'));
  copyFileSync(fixture, join(dir, 'in.csv'));
  copyFileSync(join(root, 'test/fixtures/aug-ragged.csv'), join(dir, 'ragged.csv'));
});

describe('compactlm augment', () => {
  test('keeps every column and row, adds augmented_text, prints a JSON summary', () => {
    const r = run(['augment', 'in.csv', '-o', 'out.csv', ...TEXT, '--seed', '3', '--json', '--synonym-p', '0.2'], dir);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    const input = readRows(join(dir, 'in.csv'));
    const output = readRows(join(dir, 'out.csv'));
    expect(output).toHaveLength(input.length);
    expect(Object.keys(output[0])).toEqual(['id', 'cleaned_text', 'label', 'augmented_text']);
    output.forEach((row, i) => expect({ ...row, augmented_text: undefined }).toEqual({ ...input[i], augmented_text: undefined }));
    expect(summary).toMatchObject({ rows: 6, output: 'out.csv' });
    expect(summary.wordsReplaced).toBeGreaterThan(0);
    expect(summary.wordsInserted).toBeGreaterThan(0);
    expect(summary.rowsChanged).toBe(output.filter((row) => row.augmented_text !== row.cleaned_text).length);
    expect(output[3].augmented_text).toBe(''); // empty text stays empty
    expect(r.stderr).toMatch(/augmented 6 rows/);
  });

  test('same seed → same file; another seed → another file; global and command --seed agree', () => {
    run(['augment', 'in.csv', '-o', 'a.csv', ...TEXT, '--seed', '7'], dir);
    run(['augment', 'in.csv', '-o', 'b.csv', ...TEXT, '--seed', '7'], dir);
    run(['--seed', '7', 'augment', 'in.csv', '-o', 'c.csv', ...TEXT], dir);
    run(['augment', 'in.csv', '-o', 'd.csv', ...TEXT, '--seed', '8'], dir);
    const a = readFileSync(join(dir, 'a.csv'), 'utf8');
    expect(readFileSync(join(dir, 'b.csv'), 'utf8')).toBe(a);
    expect(readFileSync(join(dir, 'c.csv'), 'utf8')).toBe(a);
    expect(readFileSync(join(dir, 'd.csv'), 'utf8')).not.toBe(a);
  });

  test('--synonym-p 0 --insert-p 0 copies the text exactly', () => {
    const r = run(['augment', 'in.csv', '-o', 'same.csv', ...TEXT, '--synonym-p', '0', '--insert-p', '0'], dir);
    expect(r.code).toBe(0);
    for (const row of readRows(join(dir, 'same.csv'))) expect(row.augmented_text).toBe(row.cleaned_text);
  });

  test('--text-column picks another column', () => {
    const r = run(['augment', 'in.csv', '-o', 'label.csv', '--text-column', 'label', '--synonym-p', '1'], dir);
    expect(r.code).toBe(0);
    for (const row of readRows(join(dir, 'label.csv'))) expect(row.augmented_text).toBe(row.label); // digits: no candidates
  });

  test.each([
    ['missing file', ['augment', 'nope.csv', '-o', 'bad.csv'], /nope\.csv: file not found/],
    ['missing column (the default --text-column is text, as in every command)', ['augment', 'in.csv', '-o', 'bad.csv'], /in\.csv:1: no column "text" \(columns: "id", "cleaned_text", "label"\)/],
    ['-o is the input', ['augment', 'in.csv', '-o', 'in.csv', ...TEXT], /^compactlm: error: -o in\.csv is the input in\.csv: choose another output/],
    ['p above 1', ['augment', 'in.csv', '-o', 'bad.csv', '--synonym-p', '1.5'], /^compactlm: error: option '--synonym-p <p>' argument '1\.5' is invalid\. 1\.5 is outside \[0, 1\]\.$/m],
    ['negative p', ['augment', 'in.csv', '-o', 'bad.csv', '--insert-p', '-0.1'], /--insert-p.*outside \[0, 1\]/],
    ['p not a number', ['augment', 'in.csv', '-o', 'bad.csv', '--insert-p', 'lots'], /"lots" is not a number/],
    ['ragged row after good rows', ['augment', 'ragged.csv', '-o', 'bad.csv', ...TEXT], /ragged\.csv:4: ragged row: 3 fields, but the header has 2/],
    ['output folder missing', ['augment', 'in.csv', '-o', 'no/such/dir/bad.csv', ...TEXT], /output folder no\/such\/dir does not exist/],
  ])('%s: one line on stderr, non-zero exit, no output', (_name, args, message) => {
    const before = readdirSync(dir).sort();
    const r = run(args, dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir).sort()).toEqual(before); // no output, no temporary file left
  });

  test('--help shows an example', () => {
    const r = run(['augment', '--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Example:\n\s+\$ compactlm augment/);
  });
});
