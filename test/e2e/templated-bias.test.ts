import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

// scripts/templated-bias.mjs: the templated sentiment set of the README's "Bias mitigation, end to end" (it imports
// dist/, so build first: npx tsc -p tsconfig.json). No training here.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/templated-bias.mjs');
const SENTIMENT = join(ROOT, 'datasets/sentiment.csv');
const FILES = ['README.md', 'test.csv', 'train.csv', 'val.csv'];

type Row = { text: string; label: string; gender: string; name: string; source: string };

function gen(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const rows = (dir: string, split: string): Row[] => parse(readFileSync(join(dir, `${split}.csv`)), { columns: true });
const count = (rs: Row[], label: string, gender: string) => rs.filter((r) => r.label === label && r.gender === gender).length;

let dir: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/util/atomic.js'))) throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.json)');
});
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'e2e-templated-bias-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/templated-bias.mjs', () => {
  test('same seed → same bytes; another seed → another set', () => {
    const a = join(dir, 'a'), b = join(dir, 'b'), c = join(dir, 'c');
    expect(gen(['--out', a]).status).toBe(0);
    expect(gen(['--out', b, '--seed', '42']).status).toBe(0);
    expect(gen(['--out', c, '--seed', '7']).status).toBe(0);
    for (const d of [a, b, c]) expect(readdirSync(d).sort()).toEqual(FILES);
    for (const f of FILES) expect(readFileSync(join(b, f))).toEqual(readFileSync(join(a, f)));
    expect(readFileSync(join(c, 'train.csv'))).not.toEqual(readFileSync(join(a, 'train.csv')));
    // written through a temporary sibling: nothing else is left in the parent
    expect(readdirSync(dir).sort()).toEqual(['a', 'b', 'c']);
  });

  test('train carries the set bias, val and test are balanced, the sentences are the source\'s with their labels', () => {
    const out = join(dir, 'set');
    const r = gen(['--out', out, '--bias', '0.9']);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.splits.train.p_male_given_1).toBeCloseTo(0.9, 2);

    const source = new Map<string, string>();
    for (const s of parse(readFileSync(SENTIMENT), { columns: true }) as Row[]) source.set(s.text, s.label);
    const seen = new Set<string>();
    const genderOf = new Map<string, string>();
    for (const [split, n] of [['train', 1800], ['val', 300], ['test', 600]] as const) {
      const rs = rows(out, split);
      expect(rs).toHaveLength(n);
      expect(Object.keys(rs[0])).toEqual(['text', 'label', 'gender', 'name', 'source']);
      expect(rs.filter((x) => x.label === '1')).toHaveLength(n / 2);
      for (const x of rs) {
        expect(x.text.startsWith(`${x.name} wrote: `)).toBe(true);
        const sentence = x.text.slice(`${x.name} wrote: `.length);
        expect(source.get(sentence)).toBe(x.label);
        expect(seen.has(sentence)).toBe(false); // no sentence in two splits (nor twice in one)
        seen.add(sentence);
        expect(['female', 'male']).toContain(x.gender);
        expect(genderOf.get(x.name) ?? x.gender).toBe(x.gender); // a name always has the same gender
        genderOf.set(x.name, x.gender);
      }
      const pos = n / 2;
      if (split === 'train') {
        // P(male | positive) and P(female | negative) are the set bias (exact counts: within one row)
        expect(Math.abs(count(rs, '1', 'male') / pos - 0.9)).toBeLessThanOrEqual(1 / pos);
        expect(Math.abs(count(rs, '0', 'female') / pos - 0.9)).toBeLessThanOrEqual(1 / pos);
      } else {
        for (const l of ['0', '1']) for (const g of ['female', 'male']) expect(count(rs, l, g)).toBe(n / 4);
      }
    }
    expect(new Set([...genderOf.values()])).toEqual(new Set(['female', 'male']));
    expect(genderOf.size).toBeGreaterThan(40); // both 30-name lists are used
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/CC BY 4\.0/);
  });

  test('the default bias is 0.8', () => {
    const out = join(dir, 'set');
    expect(gen(['--out', out, '--train', '200', '--val', '40', '--test', '40']).status).toBe(0);
    const rs = rows(out, 'train');
    expect(count(rs, '1', 'male')).toBe(80);
    expect(count(rs, '0', 'female')).toBe(80);
  });

  test('refuses an --out that is or contains an input, or that holds other files; writes nothing', () => {
    const input = join(dir, 'in', 'sentiment.csv');
    mkdirSync(join(dir, 'in'));
    copyFileSync(SENTIMENT, input);
    const before = readFileSync(input);
    for (const out of [join(dir, 'in'), dir, input]) {
      const r = gen(['--input', input, '--out', out]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/is or contains the input/);
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(input)).toEqual(before);
    expect(readdirSync(join(dir, 'in'))).toEqual(['sentiment.csv']);

    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'mine');
    const r = gen(['--input', input, '--out', other]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds other files \(keep\.txt\)/);
    expect(readdirSync(other)).toEqual(['keep.txt']);

    // a previous output folder is replaced
    const prev = join(dir, 'prev');
    expect(gen(['--input', input, '--out', prev, '--seed', '1']).status).toBe(0);
    expect(gen(['--input', input, '--out', prev, '--seed', '2']).status).toBe(0);
    expect(readdirSync(prev).sort()).toEqual(FILES);
    expect(readFileSync(join(prev, 'README.md'), 'utf8')).toMatch(/seed 2,/);
  });

  test('bad flags: one line and status 2', () => {
    for (const args of [['--bias', '0.3'], ['--train', '7'], ['--seed', '-1'], ['--seed=1.5'], ['--nope', '1']]) {
      const r = gen([...args, '--out', join(dir, 'x')]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'x'))).toBe(false);
    }
  });
});
