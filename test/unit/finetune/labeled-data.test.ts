import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balancedClassWeights, checkTrainable, labelIds, labelSet, readLabeledCsv, type LabeledColumns } from '../../../src/finetune/labeled-data.js';
import { UserError } from '../../../src/util/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'labeled-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function csv(content: string): string {
  const path = join(dir, `f${counter++}.csv`);
  writeFileSync(path, content);
  return path;
}

const COLS: LabeledColumns = { textColumn: 'text', labelColumn: 'label' };

/** The message of the one-line UserError a call fails with. */
async function userError(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('readLabeledCsv', () => {
  test('texts as given, labels trimmed, file lines of each row (quoted newlines and blank lines counted)', async () => {
    const f = csv('id,text,label\n1,"  Great film, really ",pos\n\n2,"two\nlines", neg \n3,fine,1.0\n');
    const rows = await readLabeledCsv(f, COLS);
    expect(rows).toEqual({ file: f, texts: ['  Great film, really ', 'two\nlines', 'fine'], labels: ['pos', 'neg', '1.0'], lines: [2, 4, 6] });
  });

  test('pair and weight columns', async () => {
    const f = csv('premise,hypothesis,label,w\nA man sleeps.,Someone rests.,entailment,1\nA dog runs.,A cat sits.,contradiction,0.25\nIt rains.,It is wet.,entailment,2e0\n');
    const rows = await readLabeledCsv(f, { textColumn: 'premise', pairColumn: 'hypothesis', labelColumn: 'label', weightColumn: 'w' });
    expect(rows.pairs).toEqual(['Someone rests.', 'A cat sits.', 'It is wet.']);
    expect(rows.weights).toEqual([1, 0.25, 2]);
    expect(rows.labels).toEqual(['entailment', 'contradiction', 'entailment']);
  });

  test('a missing column names the file and lists the columns there are', async () => {
    const f = csv('sentence,label\nhello,pos\n');
    expect(await userError(() => readLabeledCsv(f, COLS))).toBe(`${f}:1: no column "text" (columns: "sentence", "label")`);
    const g = csv('text,label\nhello,pos\n');
    expect(await userError(() => readLabeledCsv(g, { ...COLS, pairColumn: 'pair' }))).toBe(`${g}:1: no column "pair" (columns: "text", "label")`);
    expect(await userError(() => readLabeledCsv(g, { ...COLS, weightColumn: 'weight' }))).toBe(`${g}:1: no column "weight" (columns: "text", "label")`);
    expect(await userError(() => readLabeledCsv(g, { ...COLS, labelColumn: 'y' }))).toBe(`${g}:1: no column "y" (columns: "text", "label")`);
  });

  test('one column in two roles is refused', async () => {
    const f = csv('text,label\nhello,pos\n');
    expect(await userError(() => readLabeledCsv(f, { textColumn: 'text', labelColumn: 'text' }))).toBe(`${f}: the text and label columns are both "text"`);
  });

  test('empty file, header only, blank lines only', async () => {
    const empty = csv('');
    expect(await userError(() => readLabeledCsv(empty, COLS))).toBe(`${empty}: file is empty (expected a header row)`);
    const header = csv('text,label\n');
    expect(await userError(() => readLabeledCsv(header, COLS))).toBe(`${header}: has a header but no data rows`);
    const blank = csv('text,label\n\n\n');
    expect(await userError(() => readLabeledCsv(blank, COLS))).toBe(`${blank}: has a header but no data rows`);
  });

  test('an empty or blank text, pair or label cell names its line and column', async () => {
    const text = csv('text,label\nok,pos\n"",neg\n');
    expect(await userError(() => readLabeledCsv(text, COLS))).toBe(`${text}:3: empty text in column "text"`);
    const blank = csv('text,label\nok,pos\n   ,neg\n');
    expect(await userError(() => readLabeledCsv(blank, COLS))).toBe(`${blank}:3: empty text in column "text"`);
    const pair = csv('a,b,label\nx,,pos\n');
    expect(await userError(() => readLabeledCsv(pair, { textColumn: 'a', pairColumn: 'b', labelColumn: 'label' }))).toBe(`${pair}:2: empty text in column "b"`);
    const label = csv('text,label\nok,pos\n"multi\nline", \n');
    expect(await userError(() => readLabeledCsv(label, COLS))).toBe(`${label}:3: empty label in column "label"`);
  });

  test.each([['-1'], ['abc'], [''], ['inf'], ['Infinity'], ['NaN'], ['0x10'], ['1e999'], ['1,5']])('weight %j is refused, naming the row', async (w) => {
    const f = csv(`text,label,weight\nok,pos,1\nbad,neg,"${w}"\n`);
    expect(await userError(() => readLabeledCsv(f, { ...COLS, weightColumn: 'weight' }))).toBe(
      `${f}:3: weight ${JSON.stringify(w)} in column "weight" is not a finite number ≥ 0`,
    );
  });

  test('weights: 0 and surrounding spaces are fine; all zero is refused', async () => {
    const f = csv('text,label,weight\na,pos, 0 \nb,neg,.5\n');
    expect((await readLabeledCsv(f, { ...COLS, weightColumn: 'weight' })).weights).toEqual([0, 0.5]);
    const zero = csv('text,label,weight\na,pos,0\nb,neg,0.0\n');
    expect(await userError(() => readLabeledCsv(zero, { ...COLS, weightColumn: 'weight' }))).toBe(`${zero}: every weight in column "weight" is 0 (nothing to learn from)`);
  });

  test('CSV problems keep the reader\'s messages (ragged row)', async () => {
    const f = csv('text,label\nok,pos\nbad,neg,extra\n');
    expect(await userError(() => readLabeledCsv(f, COLS))).toBe(`${f}:3: ragged row: 3 fields, but the header has 2`);
  });
});

describe('label set and ids', () => {
  const rows = (labels: string[]) => ({ file: 'train.csv', texts: labels.map(() => 't'), labels, lines: labels.map((_, i) => i + 2) });

  test('labelSet: distinct, in UTF-16 code-unit order, independent of row order', () => {
    expect(labelSet(rows(['pos', 'neg', 'pos', 'neutral']))).toEqual(['neg', 'neutral', 'pos']);
    expect(labelSet(rows(['2', '10', '1', '1.0']))).toEqual(['1', '1.0', '10', '2']);
    expect(labelSet(rows(['b', 'B', 'a', 'é', 'Z']))).toEqual(['B', 'Z', 'a', 'b', 'é']);
    expect(labelSet(rows(['pos', 'neg']))).toEqual(labelSet(rows(['neg', 'pos'])));
  });

  test('labelIds index the label set; an unknown label names file, line and the training labels', () => {
    const labels = ['neg', 'pos'];
    expect(labelIds(rows(['pos', 'neg', 'pos']), labels)).toEqual([1, 0, 1]);
    expect(() => labelIds({ ...rows(['pos', 'neutral']), file: 'val.csv' }, labels)).toThrow(
      new UserError('val.csv:3: label "neutral" is not one of the 2 training labels (neg, pos)'),
    );
    const many = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    expect(() => labelIds(rows(['x']), many)).toThrow(
      new UserError('train.csv:2: label "x" is not one of the 12 training labels (c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, …)'),
    );
  });

  test('checkTrainable: one class (or none) is refused with the column named', async () => {
    expect(await userError(() => checkTrainable(['pos', 'pos'], 'train.csv'))).toBe('train.csv: the label column "label" has one class ("pos"); classification needs at least two');
    expect(await userError(() => checkTrainable(['1'], 'a.csv', 'y'))).toBe('a.csv: the label column "y" has one class ("1"); classification needs at least two');
    expect(await userError(() => checkTrainable([], 'a.csv'))).toBe('a.csv: the label column "label" has no labels; classification needs at least two');
    expect(() => checkTrainable(['pos', 'neg'], 'train.csv')).not.toThrow();
  });
});

describe('balancedClassWeights', () => {
  // Closed form n / (C · n_c); the values are those of sklearn.utils.class_weight.compute_class_weight('balanced').
  test('matches the closed form', () => {
    const close = (a: number[], b: number[]) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 12));
    close(balancedClassWeights([0, 0, 0, 1], 2), [4 / 6, 2]);
    close(balancedClassWeights([2, 1, 1, 0, 0, 0], 3), [2 / 3, 1, 2]);
    close(balancedClassWeights([1, 0, 1, 0], 2), [1, 1]);
  });

  test('every class carries the same total weight n / C', () => {
    const ids = [0, 1, 1, 2, 2, 2, 2, 2, 3];
    const w = balancedClassWeights(ids, 4);
    const total = [0, 0, 0, 0];
    for (const id of ids) total[id] += w[id];
    for (const t of total) expect(t).toBeCloseTo(ids.length / 4, 12);
  });

  test('a class without examples weighs 0; ids outside the label range are a bug', () => {
    expect(balancedClassWeights([0, 0, 2], 3)).toEqual([3 / 6, 0, 3 / 3]);
    expect(() => balancedClassWeights([0, 2], 2)).toThrow('label id 2 outside 0..1');
  });
});
