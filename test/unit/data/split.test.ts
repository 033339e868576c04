import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  assignParts,
  ClassIds,
  largestRemainder,
  parseRatios,
  PARTS,
  splitCsv,
  stratifiedCounts,
  type Ratios,
} from '../../../src/data/split.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';

const r = (s: string) => parseRatios(s);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** |count − n·ratio| < 1, checked in exact integer arithmetic: |count·total − n·weight| < total. */
function withinOneRow(count: number, n: number, ratios: Ratios, p: number): boolean {
  const d = BigInt(count) * ratios.total - BigInt(n) * ratios.weights[p];
  return (d < 0n ? -d : d) < ratios.total;
}

describe('parseRatios', () => {
  test('reads three decimals exactly', () => {
    const x = r('0.7,0.15,0.15');
    expect(x.values).toEqual([0.7, 0.15, 0.15]);
    expect(x.weights).toEqual([70n, 15n, 15n]);
    expect(x.total).toBe(100n);
    expect(r(' .8 , 0.2 , 0 ').weights).toEqual([8n, 2n, 0n]);
    expect(r('1,0,0').weights).toEqual([1n, 0n, 0n]);
  });

  test('accepts a sum within 1e-6 of 1 (and renormalizes)', () => {
    const x = r('0.3333333,0.3333333,0.3333333');
    expect(x.total).toBe(9999999n);
    expect(largestRemainder(3, x)).toEqual([1, 1, 1]);
  });

  test.each([
    ['0.7,0.3', /expected 3 comma-separated numbers/],
    ['0.7,0.15,0.15,0', /expected 3/],
    ['a,b,c', /"a" is not a decimal number/],
    ['0.7,,0.3', /"" is not a decimal number/],
    ['1e-1,0.45,0.45', /not a decimal number/],
    ['1.2,-0.1,-0.1', /"-0.1" is negative/],
    ['0.5,0.5,0.5', /must sum to 1, they sum to 1.5/],
    ['0.333,0.333,0.333', /must sum to 1, they sum to 0.999/],
    ['0,0,0', /must sum to 1/],
  ])('%j is a one-line error', (text, message) => {
    expect(() => r(text)).toThrow(UserError);
    expect(() => r(text)).toThrow(message);
    try {
      r(text);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message).toContain(`--ratios "${text}"`);
    }
  });
});

describe('largestRemainder', () => {
  test.each([
    [1000, '0.7,0.15,0.15', [700, 150, 150]],
    [7, '0.7,0.15,0.15', [5, 1, 1]], // 4.9, 1.05, 1.05
    [1, '0.7,0.15,0.15', [1, 0, 0]],
    [0, '0.7,0.15,0.15', [0, 0, 0]],
    [2, '0.7,0.15,0.15', [2, 0, 0]], // 1.4, 0.3, 0.3
    [3, '0.7,0.15,0.15', [2, 1, 0]], // 2.1, 0.45, 0.45: tie → earlier part
    [7, '0.8,0.2,0', [6, 1, 0]], // 5.6, 1.4, 0
    [10, '0.8,0.2,0', [8, 2, 0]],
    [2, '0.5,0.25,0.25', [1, 1, 0]], // 1, 0.5, 0.5: tie → earlier part
    [100, '0.29,0.71,0', [29, 71, 0]], // 100 × 0.29 is 28.999999999999996 in floating point
    [5, '0,0,1', [0, 0, 5]],
    [10, '0.3333333,0.3333333,0.3333333', [4, 3, 3]],
  ])('%d rows at %s → %j', (n, ratios, expected) => {
    expect(largestRemainder(n, r(ratios))).toEqual(expected);
  });

  test('property: sums to n, each part within one row of n·r, ratio 0 → 0 rows', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 300; trial++) {
      const a = rng.int(1001);
      const b = rng.int(1001 - a);
      const ratios = r([a, b, 1000 - a - b].map((w) => (w / 1000).toFixed(3)).join(','));
      for (const n of [0, 1, 2, 3, 5, 7, 10, 99, 1000, 12345, rng.int(1e6)]) {
        const counts = largestRemainder(n, ratios);
        const ok = sum(counts) === n && counts.every((c, p) => withinOneRow(c, n, ratios, p) && (ratios.weights[p] > 0n || c === 0));
        if (!ok) throw new Error(`${n} rows at ${ratios.values}: ${counts}`);
      }
    }
  });
});

describe('stratifiedCounts', () => {
  function check(classCounts: number[], ratios: Ratios) {
    const counts = stratifiedCounts(classCounts, ratios);
    const n = sum(classCounts);
    const totals = PARTS.map((_, p) => sum(counts.map((row) => row[p])));
    expect(totals).toEqual(largestRemainder(n, ratios)); // exact part totals
    const problems: string[] = []; // plain loops: one expect() per cell is slow over 20,000 classes
    counts.forEach((row, c) => {
      if (sum(row) !== classCounts[c]) problems.push(`class ${c}: ${sum(row)} rows placed of ${classCounts[c]}`);
      row.forEach((x, p) => {
        if (x < 0 || !withinOneRow(x, classCounts[c], ratios, p)) {
          problems.push(`class ${c} (${classCounts[c]} rows), part ${p}: ${x} is not within one row of the exact share`);
        }
      });
    });
    expect(problems).toEqual([]);
    return counts;
  }

  test('balanced classes split like the whole', () => {
    expect(check([500, 500], r('0.7,0.15,0.15'))).toEqual([[350, 75, 75], [350, 75, 75]]);
  });

  test('ties in every class are rebalanced across parts', () => {
    // each class alone would round to 1/1/0 (0.5/0.5 tie → val), but the totals must be 10/5/5
    const counts = check(Array(10).fill(2), r('0.5,0.25,0.25'));
    expect(counts.filter((row) => row[1] === 1).length).toBe(5);
  });

  test('many singleton classes (everything is a remainder)', () => {
    check(Array(1000).fill(1), r('0.4,0.3,0.3'));
    check(Array(20000).fill(1), r('0.7,0.15,0.15'));
  });

  test('property: exact totals and every class within one row, over many random sizes and ratios', () => {
    const rng = new Rng(2024);
    let rebalanced = 0;
    for (let trial = 0; trial < 400; trial++) {
      const classes = 1 + rng.int(trial % 4 === 0 ? 200 : 12);
      const maxSize = [1, 3, 10, 1000][rng.int(4)];
      const classCounts = Array.from({ length: classes }, () => 1 + rng.int(maxSize));
      const a = rng.int(101);
      const b = rng.int(101 - a);
      const ratios = trial % 5 === 0 ? r('0.7,0.15,0.15') : r([a, b, 100 - a - b].map((w) => (w / 100).toFixed(2)).join(','));
      const counts = check(classCounts, ratios);
      if (counts.some((row, c) => row.join() !== largestRemainder(classCounts[c], ratios).join())) rebalanced++;
    }
    expect(rebalanced).toBeGreaterThan(100); // the per-class rounding alone would often miss the part totals
  });
});

describe('assignParts', () => {
  test('gives each part exactly its count, per class, and is reproducible', () => {
    const classOf = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 3);
    const classCounts = [0, 1, 2].map((c) => classOf.filter((x) => x === c).length);
    const counts = stratifiedCounts(classCounts, r('0.7,0.15,0.15'));
    const parts = assignParts(classOf, 1000, counts, new Rng(42));
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 3; p++) {
        expect(parts.filter((x, i) => classOf[i] === c && x === p).length).toBe(counts[c][p]);
      }
    }
    expect(assignParts(classOf, 1000, counts, new Rng(42))).toEqual(parts);
    expect(assignParts(classOf, 1000, counts, new Rng(43))).not.toEqual(parts);
  });

  test('every row is equally likely to land in each part (over many seeds)', () => {
    const n = 10;
    const counts = [[7, 2, 1]];
    const hits = Array.from({ length: n }, () => [0, 0, 0]);
    const seeds = 3000;
    for (let s = 0; s < seeds; s++) assignParts(null, n, counts, new Rng(s)).forEach((p, i) => hits[i][p]++);
    for (const row of hits) {
      // expected 0.7/0.2/0.1; binomial sd at 3000 draws ≤ 0.009, so ±0.04 is > 4 sd
      expect(Math.abs(row[0] / seeds - 0.7)).toBeLessThan(0.04);
      expect(Math.abs(row[1] / seeds - 0.2)).toBeLessThan(0.04);
      expect(Math.abs(row[2] / seeds - 0.1)).toBeLessThan(0.04);
    }
  });
});

describe('ClassIds', () => {
  test('grows and widens from 1 to 2 to 4 bytes without losing values', () => {
    const ids = new ClassIds();
    const expected: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const id = i < 3000 ? i % 7 : i < 4000 ? i - 2000 : 70000 + i;
      ids.push(id);
      expected.push(id);
    }
    expect(Array.from(ids.view())).toEqual(expected);
  });
});

describe('splitCsv', () => {
  let dir: string;
  let input: string;
  const n = 1000;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'split-unit-'));
    input = join(dir, 'in.csv');
    const rng = new Rng(5);
    const labels = ['pos', 'neg', 'neg', 'neutral', 'rare'];
    const lines = ['id,text,label'];
    for (let i = 0; i < n; i++) lines.push(`${i},"row ${i}, with a comma",${i % 97 === 0 ? 'rare' : labels[rng.int(4)]}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const read = (file: string) => parse(readFileSync(file), { columns: true }) as Record<string, string>[];

  test('parts are disjoint and complete, keep the header and the original order', async () => {
    const out = join(dir, 'plain');
    const summary = await splitCsv({ input, outDir: out, ratios: '0.7,0.15,0.15', seed: 42 });
    expect(summary.counts).toEqual({ train: 700, val: 150, test: 150 });
    expect(readdirSync(out).sort()).toEqual(['split.json', 'test.csv', 'train.csv', 'val.csv']);
    const ids: number[] = [];
    for (const part of PARTS) {
      const text = readFileSync(join(out, `${part}.csv`), 'utf8');
      expect(text.startsWith('id,text,label\n')).toBe(true);
      const rows = read(join(out, `${part}.csv`));
      expect(rows.length).toBe(summary.counts[part]);
      const partIds = rows.map((row) => Number(row.id));
      expect(partIds).toEqual([...partIds].sort((a, b) => a - b)); // original order
      rows.forEach((row) => expect(row.text).toBe(`row ${row.id}, with a comma`));
      ids.push(...partIds);
    }
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'))).toEqual(summary);
  });

  test('same input and seed → byte-identical files; another seed → another split', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    await splitCsv({ input, outDir: a, ratios: '0.8,0.1,0.1', seed: 9, stratify: 'label' });
    await splitCsv({ input, outDir: b, ratios: '0.8,0.1,0.1', seed: 9, stratify: 'label' });
    await splitCsv({ input, outDir: c, ratios: '0.8,0.1,0.1', seed: 10, stratify: 'label' });
    for (const f of ['train.csv', 'val.csv', 'test.csv', 'split.json']) {
      expect(readFileSync(join(b, f))).toEqual(readFileSync(join(a, f)));
    }
    expect(readFileSync(join(c, 'train.csv'))).not.toEqual(readFileSync(join(a, 'train.csv')));
  });

  test('stratified: every class within one row of its exact share, counts recorded in split.json', async () => {
    const out = join(dir, 'strat');
    const ratios = r('0.7,0.15,0.15');
    const summary = await splitCsv({ input, outDir: out, ratios: '0.7,0.15,0.15', seed: 1, stratify: 'label' });
    const all = read(input);
    const classes = [...new Set(all.map((row) => row.label))];
    expect(Object.keys(summary.classes!)).toEqual(classes); // order of first appearance
    PARTS.forEach((part, p) => {
      const rows = read(join(out, `${part}.csv`));
      for (const label of classes) {
        const nc = all.filter((row) => row.label === label).length;
        const got = rows.filter((row) => row.label === label).length;
        expect(got).toBe(summary.classes![label][part]);
        expect(withinOneRow(got, nc, ratios, p)).toBe(true);
      }
    });
  });

  test('ratio 0 gives an empty part (header only)', async () => {
    const out = join(dir, 'zero');
    const summary = await splitCsv({ input, outDir: out, ratios: '0.8,0.2,0', seed: 3 });
    expect(summary.counts).toEqual({ train: 800, val: 200, test: 0 });
    expect(readFileSync(join(out, 'test.csv'), 'utf8')).toBe('id,text,label\n');
  });

  test('errors leave no output folder or file behind', async () => {
    const out = join(dir, 'never');
    await expect(splitCsv({ input, outDir: out, ratios: '0.7,0.3,0.3', seed: 1 })).rejects.toThrow(/must sum to 1/);
    await expect(splitCsv({ input, outDir: out, ratios: '0.7,0.15,0.15', seed: 1, stratify: 'nope' })).rejects.toThrow(
      /in\.csv:1: no column "nope" \(columns: "id", "text", "label"\)/,
    );
    expect(readdirSync(dir)).not.toContain('never');
  });
});
