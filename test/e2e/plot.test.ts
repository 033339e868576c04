import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Drives the built CLI (`npm test` builds first; by hand: npx tsc -p tsconfig.json).
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const FIXTURE = join(ROOT, 'test/fixtures/bias-small.csv');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bars = (svg: string): number => (svg.match(/aria-roledescription="bar"/g) ?? []).length;

let dir: string;
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
});
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'e2e-plot-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm plot', () => {
  test('value counts of a column as an SVG bar chart; --json prints the counts', () => {
    const out = join(dir, 'sex.svg');
    const r = cli(['plot', FIXTURE, '--column', 'sex', '-o', out, '--title', 'Sex <of> applicants', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toEqual({
      input: FIXTURE, column: 'sex', output: out, rows: 12, distinct: 3, truncated: false, other: null,
      top: [{ value: 'male', count: 6 }, { value: 'female', count: 4 }, { value: 'nonbinary', count: 2 }],
    });
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(bars(svg)).toBe(3);
    expect(svg).toContain('Sex &lt;of&gt; applicants');
    expect(readdirSync(dir)).toEqual(['sex.svg']);
  });

  test('more values than --top-k: the most frequent ones plus one "(other)" bar', () => {
    const input = join(dir, 'many.csv');
    // value v_i appears i+1 times (i = 0..59): 60 distinct values, 1830 rows
    const lines = ['id,cat'];
    for (let i = 0; i < 60; i++) for (let k = 0; k <= i; k++) lines.push(`${lines.length},v_${i}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'many.svg');
    const r = cli(['plot', input, '--column', 'cat', '-o', out, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.top).toHaveLength(50);
    expect(j.top[0]).toEqual({ value: 'v_59', count: 60 });
    expect(j.top[49]).toEqual({ value: 'v_10', count: 11 });
    expect(j.other).toEqual({ values: 10, count: 55 }); // 1 + 2 + … + 10
    const svg = readFileSync(out, 'utf8');
    expect(bars(svg)).toBe(51);
    expect(svg).toContain('(other)');
    const r5 = cli(['plot', input, '--column', 'cat', '-o', out, '--top-k', '5']);
    expect(r5.status).toBe(0);
    expect(r5.stdout).toBe('');
    expect(bars(readFileSync(out, 'utf8'))).toBe(6);
    // --top, the old name, still works with a deprecation warning
    const old = cli(['plot', input, '--column', 'cat', '-o', out, '--top', '3']);
    expect(old.status).toBe(0);
    expect(old.stderr).toMatch(/--top is deprecated: use --top-k/);
    expect(bars(readFileSync(out, 'utf8'))).toBe(4);
    expect(cli(['plot', input, '--column', 'cat', '-o', out, '--top-k', '0']).stderr).toMatch(/^compactlm: error: option '--top-k <k>' argument '0' is invalid/);
  });

  test('a missing column is a one-line error and writes nothing', () => {
    const out = join(dir, 'x.svg');
    const r = cli(['plot', FIXTURE, '--column', 'gender', '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `compactlm: error: ${FIXTURE}:1: no column "gender" (columns: "id", "text", "sex", "hired", "predicted")`,
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('--help shows an example', () => {
    const r = cli(['plot', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Example:');
    expect(r.stdout).toMatch(/--top-k <k>/);
    expect(r.stdout).not.toMatch(/--top </);
  });

  test('-o the input is refused', () => {
    const r = cli(['plot', FIXTURE, '--column', 'sex', '-o', FIXTURE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^compactlm: error: -o .* is the input .*never overwrites its input\)\n$/);
  });
});
