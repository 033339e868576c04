/** Which feedback records become training rows, by the rules of src/feedback/training-rows.ts. */
import type { StoredFeedback } from '../../../src/feedback/store.js';
import { inputText, outputLabel, trainingRows } from '../../../src/feedback/training-rows.js';

let id = 0;
const rec = (inputs: unknown, output: unknown, label: string | null, rating: number | null): StoredFeedback =>
  ({ id: ++id, task: 'classify', inputs, output, label, rating, created_at: '2026-01-01T00:00:00.000Z' });

describe('feedback → training rows', () => {
  test('the text of inputs, the label of an output', () => {
    expect(inputText('a')).toBe('a');
    expect(inputText({ text: 'b', model: 'm' })).toBe('b');
    expect(inputText(['c'])).toBe('c');
    expect(inputText(['c', 'd'])).toBeNull();
    expect(inputText(42)).toBeNull();
    expect(outputLabel({ text: 'x', label: '1', score: 0.9, scores: { 0: 0.1, 1: 0.9 } })).toBe('1'); // infer --task classify --json
    expect(outputLabel([{ label: 'pos', score: 0.8 }, { label: 'neg', score: 0.2 }])).toBe('pos');
    expect(outputLabel('neg')).toBe('neg');
    expect(outputLabel({ label: 1 })).toBe('1');
    expect(outputLabel(null)).toBeNull();
    expect(outputLabel([])).toBeNull();
  });

  test('a label wins; else a rating ≥ minRating approves the output; else skipped', () => {
    const { rows, counts } = trainingRows([
      rec('corrected', { label: '1' }, '0', 1),        // the user's label, whatever the rating
      rec('approved', { label: '1' }, null, 5),        // right: the output's label
      rec('just ok', { label: '0' }, null, 4),         // = minRating: approved
      rec('meh', { label: '0' }, null, 3),             // below: skipped
      rec('wrong', { label: '0' }, null, 1),           // a wrong output: skipped (it does not say the right label)
      rec('silent', { label: '1' }, null, null),       // nothing said
      rec(['a', 'b'], { label: '1' }, '1', null),      // not one text
      rec('   ', null, '1', null),                     // empty text
    ], { minRating: 4 });
    expect(rows).toEqual([{ text: 'corrected', label: '0' }, { text: 'approved', label: '1' }, { text: 'just ok', label: '0' }]);
    expect(counts).toEqual({ records: 8, labelled: 1, rated: 2, unlabelled: 3, not_text: 2, unknown_label: 0, excluded: 0, superseded: 0 });
  });

  test('the latest feedback on a text wins and takes its place; labels and excluded texts filter', () => {
    const { rows, counts } = trainingRows([
      rec('same', { label: '1' }, null, 5),
      rec('other', null, 'positive', null),
      rec('test sentence', null, '1', null),
      rec('same', { label: '1' }, '0', null),
    ], { minRating: 4, labels: new Set(['0', '1']), exclude: new Set(['test sentence']) });
    expect(rows).toEqual([{ text: 'same', label: '0' }]);
    expect(counts).toMatchObject({ labelled: 1, rated: 0, unknown_label: 1, excluded: 1, superseded: 1 });
  });
});
