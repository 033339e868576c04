import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

// Drives the built CLI (npm test builds dist/ first; or run `npx tsc -p tsconfig.json`).
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const PARTS = ['train', 'val', 'test'];

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readRows = (file: string) => parse(readFileSync(file), { columns: true, bom: true }) as Record<string, string>[];
const N = 1000;
const LABELS = ['pos', 'neg', 'neg', 'neg', 'neutral', 'pos', 'rare'];

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'split-e2e-'));
  const lines = ['id,text,label'];
  for (let i = 0; i < N; i++) {
    const label = i % 50 === 7 ? 'rare' : LABELS[(i * 7919) % 6];
    lines.push(i % 10 === 3 ? `${i},"quoted, with a comma\r\nand a newline ${i}",${label}` : `${i},plain text ${i},${label}`);
  }
  writeFileSync(join(dir, 'data.csv'), `\ufeff${lines.join('\r\n')}\r\n`); // BOM + CRLF + quoted newlines
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A failed run: non-zero exit, one line on stderr, no stack trace, nothing new in the folder (no out dir either). */
function expectCleanFailure(args: string[], start: string, message: RegExp) {
  const before = readdirSync(dir).sort();
  const r = run(args, dir);
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`compactlm: error: ${start}`)).toBe(true);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(readdirSync(dir).sort()).toEqual(before);
}

describe('compactlm split', () => {
  test('1000 rows → 700/150/150, disjoint and complete, headers, split.json', () => {
    const r = run(['split', 'data.csv', '--out', 'plain', '--json'], dir);
    expect(r.code).toBe(0);
    const out = join(dir, 'plain');
    expect(readdirSync(out).sort()).toEqual(['split.json', 'test.csv', 'train.csv', 'val.csv']);
    const input = readRows(join(dir, 'data.csv'));
    const byId = new Map(input.map((row) => [row.id, row]));
    const seen = new Set<string>();
    const sizes = PARTS.map((part) => {
      expect(readFileSync(join(out, `${part}.csv`), 'utf8').startsWith('id,text,label\n')).toBe(true);
      const rows = readRows(join(out, `${part}.csv`));
      for (const row of rows) {
        expect(seen.has(row.id)).toBe(false); // disjoint
        seen.add(row.id);
        expect(row).toEqual(byId.get(row.id)); // fields intact, quoted CRLF included
      }
      return rows.length;
    });
    expect(sizes).toEqual([700, 150, 150]);
    expect(seen.size).toBe(N); // complete
    const summary = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    expect(summary).toEqual(JSON.parse(r.stdout));
    expect(summary).toMatchObject({
      input: 'data.csv',
      rows: N,
      seed: 42,
      ratios: [0.7, 0.15, 0.15],
      stratify: null,
      counts: { train: 700, val: 150, test: 150 },
    });
    expect(r.stderr).toMatch(/train 700, val 150, test 150/);
  });

  test('--stratify keeps every class within one row of its share, and records the per-class counts', () => {
    const r = run(['split', 'data.csv', '--out', 'strat', '--stratify', 'label', '--ratios', '0.8,0.1,0.1', '--seed', '5'], dir);
    expect(r.code).toBe(0);
    const input = readRows(join(dir, 'data.csv'));
    const summary = JSON.parse(readFileSync(join(dir, 'strat', 'split.json'), 'utf8'));
    expect(summary.stratify).toBe('label');
    expect(summary.counts).toEqual({ train: 800, val: 100, test: 100 });
    const ratios = [0.8, 0.1, 0.1];
    PARTS.forEach((part, p) => {
      const rows = readRows(join(dir, 'strat', `${part}.csv`));
      for (const label of new Set(input.map((row) => row.label))) {
        const total = input.filter((row) => row.label === label).length;
        const got = rows.filter((row) => row.label === label).length;
        expect(got).toBe(summary.classes[label][part]);
        expect(Math.abs(got - total * ratios[p])).toBeLessThan(1 + 1e-9);
      }
    });
  });

  test('same input and seed → byte-identical output (global or command --seed); another seed differs', () => {
    expect(run(['split', 'data.csv', '--out', 'a', '--seed', '11', '--stratify', 'label'], dir).code).toBe(0);
    expect(run(['--seed', '11', 'split', 'data.csv', '--out', 'b', '--stratify', 'label'], dir).code).toBe(0);
    expect(run(['split', 'data.csv', '--out', 'c', '--seed', '12', '--stratify', 'label'], dir).code).toBe(0);
    for (const f of ['train.csv', 'val.csv', 'test.csv', 'split.json']) {
      expect(readFileSync(join(dir, 'b', f))).toEqual(readFileSync(join(dir, 'a', f)));
    }
    expect(readFileSync(join(dir, 'c', 'train.csv'))).not.toEqual(readFileSync(join(dir, 'a', 'train.csv')));
  });

  test('--out-dir, the old name of --out, still works (hidden from --help) with a deprecation warning', () => {
    const r = run(['split', 'data.csv', '--out-dir', 'old', '--seed', '11', '--stratify', 'label'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--out-dir is deprecated: use --out/);
    expect(readFileSync(join(dir, 'old', 'train.csv'))).toEqual(readFileSync(join(dir, 'a', 'train.csv')));
    const both = run(['split', 'data.csv', '--out-dir', 'x', '--out', 'y'], dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --out, not both --out and --out-dir/);
  });

  test('tiny inputs: 7 rows → 5/1/1, 1 row → 1/0/0; ratio 0 gives a header-only part', () => {
    writeFileSync(join(dir, 'seven.csv'), `id\n${[1, 2, 3, 4, 5, 6, 7].join('\n')}\n`);
    writeFileSync(join(dir, 'one.csv'), 'id\n1\n');
    const seven = run(['split', 'seven.csv', '--out', 'seven', '--json'], dir);
    expect(JSON.parse(seven.stdout).counts).toEqual({ train: 5, val: 1, test: 1 });
    const one = run(['split', 'one.csv', '--out', 'one', '--json', '--ratios', '0.8,0.2,0'], dir);
    expect(JSON.parse(one.stdout).counts).toEqual({ train: 1, val: 0, test: 0 });
    expect(readFileSync(join(dir, 'one', 'test.csv'), 'utf8')).toBe('id\n');
  });

  test('--help documents the rounding and has an example', () => {
    const r = run(['split', '--help'], dir);
    expect(r.stdout).toMatch(/largest-remainder rounding/);
    expect(r.stdout).toMatch(/Example:\n\s+\$ compactlm split .* --out data\//);
    expect(r.stdout).not.toMatch(/--out-dir/);
  });

  describe('bad input: one line, no output folder or file', () => {
    test.each([
      ['0.7,0.2', /expected 3 comma-separated numbers/],
      ['0.7,abc,0.15', /"abc" is not a decimal number/],
      ['1.2,-0.1,-0.1', /"-0.1" is negative/],
      ['0.7,0.2,0.2', /must sum to 1, they sum to 1.1/],
    ])('--ratios %s (checked by the CLI)', (ratios, message) => {
      expectCleanFailure(['split', 'data.csv', '--out', 'never', '--ratios', ratios], `option '--ratios <train,val,test>' argument '${ratios}' is invalid. `, message);
    });

    test('no --out: one line naming the flag', () => {
      expectCleanFailure(['split', 'data.csv'], 'split: where to? pass --out <dir>', /split\.json/);
    });

    test('an --out that would overwrite the input (data/train.csv into data/) is refused', () => {
      mkdirSync(join(dir, 'data'));
      copyFileSync(join(dir, 'data.csv'), join(dir, 'data', 'train.csv'));
      try {
        expectCleanFailure(['split', join('data', 'train.csv'), '--out', 'data'], `--out ${join('data', 'train.csv')} is the input`, /never overwrites its input/);
        expect(readdirSync(join(dir, 'data'))).toEqual(['train.csv']);
      } finally {
        rmSync(join(dir, 'data'), { recursive: true });
      }
    });

    test('unknown stratify column lists the columns', () => {
      expectCleanFailure(['split', 'data.csv', '--out', 'never', '--stratify', 'class'], 'data.csv:1: ', /no column "class" \(columns: "id", "text", "label"\)/);
    });

    test('missing file', () => {
      expectCleanFailure(['split', 'nope.csv', '--out', 'never'], 'nope.csv: ', /file not found/);
    });

    test('ragged row, with its line', () => {
      writeFileSync(join(dir, 'ragged.csv'), 'id,label\n1,a\n2,"b\nc"\n3,a,oops\n');
      expectCleanFailure(['split', 'ragged.csv', '--out', 'never'], 'ragged.csv:5: ', /ragged row/);
    });

    test('unclosed quote, with its line', () => {
      writeFileSync(join(dir, 'unclosed.csv'), 'id,label\n1,a\n2,"b\n');
      expectCleanFailure(['split', 'unclosed.csv', '--out', 'never'], 'unclosed.csv:3: ', /unclosed quote/);
    });

    test('header only', () => {
      writeFileSync(join(dir, 'header.csv'), 'id,label\n');
      expectCleanFailure(['split', 'header.csv', '--out', 'never'], 'header.csv: ', /no data rows/);
    });

    test('an existing output folder is left as it was', () => {
      const before = readFileSync(join(dir, 'plain', 'train.csv'));
      expectCleanFailure(['split', 'ragged.csv', '--out', 'plain'], 'ragged.csv:5: ', /ragged row/);
      expect(readFileSync(join(dir, 'plain', 'train.csv'))).toEqual(before);
      expect(readdirSync(join(dir, 'plain')).sort()).toEqual(['split.json', 'test.csv', 'train.csv', 'val.csv']);
    });
  });
});
