import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Drives the built CLI (npm test builds dist/ first; or run `npx tsc -p tsconfig.json`).
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

function run(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'tokenize-e2e-'));
  copyFileSync(fileURLToPath(new URL('../fixtures/tok-small.csv', import.meta.url)), join(dir, 'small.csv'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Non-zero exit, one line on stderr without a stack trace, and nothing new in the folder. */
function expectCleanFailure(args: string[], message: RegExp, code?: number) {
  const before = readdirSync(dir).sort();
  const r = run(args);
  if (code !== undefined) expect(r.code).toBe(code);
  else expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
  expect(readdirSync(dir).sort()).toEqual(before);
}

describe('compactlm tokenize --text', () => {
  test('prints a table of the tokens; --json prints input_ids, attention_mask, token_type_ids and tokens as JSON', () => {
    const table = run(['tokenize', '--text', 'Héllo, wörld!']);
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['pos', 'token', 'id'], ['0', '[CLS]', '101'], ['1', 'hello', '7592'], ['2', ',', '1010'], ['3', 'world', '2088'], ['4', '!', '999'],
      ['5', '[SEP]', '102'], ['6', 'tokens'],
    ]);
    const r = run(['tokenize', '--text', 'Héllo, wörld!', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      input_ids: [101, 7592, 1010, 2088, 999, 102],
      attention_mask: [1, 1, 1, 1, 1, 1],
      token_type_ids: [0, 0, 0, 0, 0, 0],
      tokens: ['[CLS]', 'hello', ',', 'world', '!', '[SEP]'],
    });
  });

  test('--pair and --seq-len: longest first, [SEP] kept', () => {
    const r = run(['tokenize', '--text', 'Is it sunny today?', '--pair', 'It is raining.', '--seq-len', '9', '--json']);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    // 5 + 4 content tokens into 9 - 3 = 6: both exceed half, so 3 and 3.
    expect(e.tokens).toEqual(['[CLS]', 'is', 'it', 'sunny', '[SEP]', 'it', 'is', 'raining', '[SEP]']);
    expect(e.token_type_ids).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    // --max-length, the old name of --seq-len, still works with a deprecation warning
    const old = run(['tokenize', '--text', 'Is it sunny today?', '--pair', 'It is raining.', '--max-length', '9', '--json']);
    expect(JSON.parse(old.stdout)).toEqual(e);
    expect(old.stderr).toMatch(/--max-length is deprecated: use --seq-len/);
  });

  test('a long text gives exactly 512 ids by default', () => {
    const e = JSON.parse(run(['tokenize', '--text', 'lorem '.repeat(700), '--json']).stdout);
    expect(e.input_ids).toHaveLength(512);
    expect([e.input_ids[0], e.input_ids[511]]).toEqual([101, 102]);
  });
});

describe('compactlm tokenize <csv> --out', () => {
  test('writes shards and prints stats with --json (--text-column defaults to text)', () => {
    const r = run(['tokenize', 'small.csv', '--out', 'shards', '--json', '--seq-len', '8']);
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout);
    expect(stats).toMatchObject({ rows: 8, skipped_empty: 3, sequences: 5, shards: 1, truncated: 3, max_length_seen: 8 });
    const manifest = JSON.parse(readFileSync(join(dir, 'shards', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'compactlm-token-shards', version: 1, dtype: 'uint16', max_length: 8 });
    expect(stats).toMatchObject(manifest.stats); // --json repeats the manifest's stats
    const bin = readFileSync(join(dir, 'shards', 'shard-00000.bin'));
    expect(bin.length).toBe(stats.tokens * 2);
    expect([bin.readUInt16LE(0), bin.readUInt16LE(2), bin.readUInt16LE(10)]).toEqual([101, 7592, 102]);
    // logs go to stderr, results to stdout
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    rmSync(join(dir, 'shards'), { recursive: true });
  });

  test('bad inputs: one line, non-zero exit, nothing written', () => {
    expectCleanFailure(['tokenize'], /^compactlm: error: tokenize: nothing to tokenize; give --text/, 2);
    expectCleanFailure(['tokenize', 'missing.csv', '--text-column', 'text', '--out', 'o'], /^compactlm: error: missing\.csv: file not found$/);
    expectCleanFailure(['tokenize', 'small.csv', '--text-column', 'body', '--out', 'o'], /^compactlm: error: small\.csv:1: no column "body"/);
    expectCleanFailure(['tokenize', 'small.csv', '--text-column', 'text'], /--out <dir> is required/, 2);
    expectCleanFailure(['tokenize', '--text', 'x', '--seq-len', '1'], /^compactlm: error: option '--seq-len <n>' argument '1' is invalid\. 1 is outside \[2, 512\]\.$/);
    expectCleanFailure(['tokenize', '--text', 'x', '--seq-len', '513'], /513 is outside \[2, 512\]/);
    expectCleanFailure(['tokenize', '--text', 'x', '--max-length', '513'], /option '--max-length <n>' argument '513' is invalid/);
    expectCleanFailure(['tokenize', '--text', 'x', '--pair', 'y', '--seq-len', '2'], /^compactlm: error: --seq-len 2 is too short with --pair: \[CLS\] A \[SEP\] B \[SEP\] needs at least 3$/, 2);
    expectCleanFailure(['tokenize', '--text', 'x', '--seq-len', '8', '--max-length', '9'], /give --seq-len, not both --seq-len and --max-length/, 2);
    expectCleanFailure(['tokenize', 'small.csv', '--text-column', 'text', '--out', 'o', '--seq-len', '1'], /--seq-len <n>' argument '1'/);
    expectCleanFailure(['tokenize', 'small.csv', '--out', '.'], /^compactlm: error: --out \. contains the input small\.csv: choose another output \(a command never overwrites its input\)/, 2);
    writeFileSync(join(dir, 'blank.csv'), 'text\n""\n');
    expectCleanFailure(['tokenize', 'blank.csv', '--text-column', 'text', '--out', 'o'], /blank\.csv: column "text" has no text in any of its 1 rows/);
    rmSync(join(dir, 'blank.csv'));
  });

  test('--help shows an example', () => {
    const r = run(['tokenize', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Example:\n\s+\$ compactlm tokenize --text/);
    expect(r.stdout).toMatch(/--seq-len <n>/);
    expect(r.stdout).not.toMatch(/--max-length/);
  });
});
