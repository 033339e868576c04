import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaqIndex, l2Normalize, questionKey, readFaq, type Faq } from '../../../src/chat/faq.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'faq-unit-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('readFaq: validation, one line naming file, line and row', () => {
  test('a good FAQ: rows numbered from 1, cells trimmed, the intent column optional, a sha256 of the bytes', async () => {
    const p = file('ok.csv', 'question,answer,intent\n Where is my order? ,"Open Orders, then Track.",track\nCan I pay by card?,Yes.,pay\n');
    const faq = await readFaq(p);
    expect(faq.hasIntent).toBe(true);
    expect(faq.rows).toEqual([
      { row: 1, line: 2, question: 'Where is my order?', answer: 'Open Orders, then Track.', intent: 'track' },
      { row: 2, line: 3, question: 'Can I pay by card?', answer: 'Yes.', intent: 'pay' },
    ]);
    expect(faq.sha256).toMatch(/^[0-9a-f]{64}$/);
    const noIntent = await readFaq(file('no-intent.csv', 'answer,question\nYes.,Can I pay by card?\n'));
    expect(noIntent.hasIntent).toBe(false);
    expect(noIntent.rows[0]).toEqual({ row: 1, line: 2, question: 'Can I pay by card?', answer: 'Yes.' });
  });

  test('no answer column (or no question column): names the file, line 1 and the missing column', async () => {
    await expect(readFaq(file('no-answer.csv', 'question,intent\nWhere is my order?,track\n'))).rejects.toThrow(/no-answer\.csv:1: no column "answer" \(columns: "question", "intent"\)/);
    await expect(readFaq(file('no-question.csv', 'q,answer\nx,y\n'))).rejects.toThrow(/no-question\.csv:1: no column "question"/);
  });

  test('an empty question, answer or intent: names the line and the row', async () => {
    await expect(readFaq(file('e1.csv', 'question,answer\na?,b\n  ,c\n'))).rejects.toThrow(/e1\.csv:3: row 2: empty question$/);
    await expect(readFaq(file('e2.csv', 'question,answer\na?,b\nc?,""\n'))).rejects.toThrow(/e2\.csv:3: row 2: empty answer$/);
    await expect(readFaq(file('e3.csv', 'question,answer,intent\na?,b,x\nc?,d,\n'))).rejects.toThrow(/e3\.csv:3: row 2: empty intent \(the file has an intent column/);
  });

  test('a duplicate question (case, spacing and final punctuation aside) names both rows', async () => {
    const p = file('dup.csv', 'question,answer\nWhere is my order?,a\nHow do I pay?,b\n"where  is my ORDER",c\n');
    await expect(readFaq(p)).rejects.toThrow(/dup\.csv:4: row 3: duplicate question "where {2}is my ORDER" \(row 1, line 2 asks the same\)/);
    expect(questionKey('  Where is\tmy order?! ')).toBe('where is my order');
    expect(questionKey('Where is my order, please?')).not.toBe(questionKey('Where is my order?'));
  });

  test('a header and no rows, an empty file: one line each', async () => {
    await expect(readFaq(file('header.csv', 'question,answer\n'))).rejects.toThrow(/header\.csv: has a header but no data rows/);
    await expect(readFaq(file('empty.csv', ''))).rejects.toThrow(/empty\.csv: file is empty/);
  });
});

describe('FaqIndex: cosine ranking, each topic once', () => {
  const faq: Faq = {
    file: 'f.csv', hasIntent: true, sha256: '',
    rows: [
      { row: 1, line: 2, question: 'q1', answer: 'a1', intent: 'x' },
      { row: 2, line: 3, question: 'q2', answer: 'a1', intent: 'x' },
      { row: 3, line: 4, question: 'q3', answer: 'a3', intent: 'y' },
      { row: 4, line: 5, question: 'q4', answer: 'a4', intent: 'z' },
    ],
  };
  // 2-d unit vectors at 0°, 60°, 90°, 180°
  const v = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  const index = new FaqIndex(faq, Float32Array.from([...v(0), ...v(60), ...v(90), ...v(180)]));

  test('scores are the cosines; the ranking keeps the best row of each intent, best first', () => {
    const q = l2Normalize(v(50).map((x) => 3 * x)); // length does not matter
    const s = index.scores(q);
    [50, 10, 40, 130].forEach((deg, i) => expect(s[i]).toBeCloseTo(Math.cos((deg * Math.PI) / 180), 6));
    const ranked = index.rank(q);
    expect(ranked.map((m) => [m.row, m.intent])).toEqual([[2, 'x'], [3, 'y'], [4, 'z']]);
    expect(ranked[0].score).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 6);
  });

  test('without an intent column, rows with the same answer are one topic; ties go to the earlier row', () => {
    const plain = new FaqIndex({ ...faq, hasIntent: false, rows: faq.rows.map(({ intent: _i, ...r }) => r) }, index.vectors);
    const ranked = plain.rank(l2Normalize(v(30)));
    expect(ranked.map((m) => m.row)).toEqual([1, 3, 4]); // rows 1 and 2 tie at 30° and share answer a1
  });

  test('l2Normalize: unit length; a zero vector stays zero; a query of the wrong width is a bug', () => {
    const n = l2Normalize([3, 4]);
    expect(Array.from(n)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(l2Normalize([0, 0]))).toEqual([0, 0]);
    expect(() => index.scores(new Float32Array(3))).toThrow(/query of 3 dims/);
  });
});
