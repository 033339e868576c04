/**
 * `eval --task intent` metrics (src/eval/intent-report.ts) against hand-computed values, with Larson et al.'s
 * (2019) definitions: a query is predicted out-of-scope when its best intent is the out-of-scope label or its
 * score is below the threshold.
 */
import { balance, bestThreshold, intentMetrics, predictedOos, topKAccuracy, type IntentPrediction } from '../../../src/eval/intent-report.js';

const p = (ranked: string[], score: number): IntentPrediction => ({ ranked, score });
// 6 in scope (a, b) and 4 out of scope
const truth = ['a', 'a', 'b', 'b', 'a', 'b', 'oos', 'oos', 'oos', 'oos'];
const preds = [
  p(['a', 'b'], 0.9), //   in, right, confident
  p(['a', 'b'], 0.4), //   in, right, unsure
  p(['b', 'a'], 0.8), //   in, right
  p(['a', 'b'], 0.7), //   in, wrong (b second)
  p(['oos', 'b'], 0.6), // in, predicted oos
  p(['b', 'a'], 0.3), //   in, right, very unsure
  p(['oos', 'a'], 0.9), // oos, caught by the label
  p(['a', 'oos'], 0.35), // oos, unsure
  p(['b', 'a'], 0.85), // oos, confident mistake
  p(['a', 'b'], 0.5), //  oos, mid
];

describe('intent metrics', () => {
  test('argmax only (no threshold): in-scope accuracy 4/6, oos recall 1/4, oos precision 1/2', () => {
    // in scope right: rows 0, 1, 2, 5 (row 3 is wrong, row 4 is predicted oos); oos caught: row 6; predicted oos: rows 4, 6
    expect(intentMetrics(truth, preds, 'oos', null)).toEqual({
      n_in_scope: 6, n_oos: 4, predicted_oos: 2, in_scope_accuracy: 4 / 6, oos_recall: 1 / 4, oos_precision: 1 / 2,
    });
  });

  test('threshold 0.55: fallbacks count wrong in scope and right out of scope', () => {
    // predicted oos: rows 1 (0.4), 4 (label), 5 (0.3), 6 (label), 7 (0.35), 9 (0.5) → 6; in scope right and kept: rows 0, 2 → 2/6
    expect(intentMetrics(truth, preds, 'oos', 0.55)).toEqual({
      n_in_scope: 6, n_oos: 4, predicted_oos: 6, in_scope_accuracy: 2 / 6, oos_recall: 3 / 4, oos_precision: 3 / 6,
    });
    expect(predictedOos(preds[3], 'oos', 0.7)).toBe(false); // a score equal to the threshold is answered
    expect(predictedOos(preds[3], 'oos', 0.7000001)).toBe(true);
  });

  test('no out-of-scope queries, nothing predicted out of scope: null, not NaN', () => {
    const m = intentMetrics(['a', 'b'], [p(['a'], 0.9), p(['a'], 0.9)], 'oos', null);
    expect(m).toMatchObject({ in_scope_accuracy: 0.5, oos_recall: null, oos_precision: null });
    expect(balance(m)).toBeNull();
  });

  test('balance is the harmonic mean of in-scope accuracy and oos recall', () => {
    expect(balance(intentMetrics(truth, preds, 'oos', 0.55))).toBeCloseTo((2 * (1 / 3) * (3 / 4)) / (1 / 3 + 3 / 4), 12);
    expect(balance({ n_in_scope: 1, n_oos: 1, predicted_oos: 0, in_scope_accuracy: 0, oos_recall: 0, oos_precision: null })).toBe(0);
  });

  test('bestThreshold: every score tried, the best harmonic mean kept, the lowest threshold on ties', () => {
    // By hand, per candidate t (predicted oos when the score is below t), (in-scope accuracy, oos recall):
    //   0.3: nothing below, the argmax (4/6, 1/4)   0.35: row 5 below (3/6, 1/4)   0.4: + row 7 (3/6, 2/4)
    //   0.5: + row 1 (2/6, 2/4)   0.6: + row 9 (2/6, 3/4)   0.7, 0.8: + rows 4, 3, already wrong (2/6, 3/4)
    //   0.85: + row 2 (1/6, 3/4)   0.9: + row 8 (1/6, 4/4)
    const hm = (a: number, r: number) => (2 * a * r) / (a + r);
    const want: [number, number][] = [[0.3, hm(4 / 6, 1 / 4)], [0.35, hm(3 / 6, 1 / 4)], [0.4, hm(3 / 6, 2 / 4)], [0.5, hm(2 / 6, 2 / 4)],
      [0.6, hm(2 / 6, 3 / 4)], [0.7, hm(2 / 6, 3 / 4)], [0.8, hm(2 / 6, 3 / 4)], [0.85, hm(1 / 6, 3 / 4)], [0.9, hm(1 / 6, 1)]];
    for (const [t, b] of want) expect(balance(intentMetrics(truth, preds, 'oos', t))).toBeCloseTo(b, 12);
    expect(hm(3 / 6, 2 / 4)).toBe(0.5);
    expect(bestThreshold(truth, preds, 'oos')).toEqual({ threshold: 0.4, balance: 0.5 });
  });

  test('bestThreshold: on a tie the lower threshold wins', () => {
    // 0.6, 0.7 and 0.8 all give (2/6, 3/4) above; drop the rows that make 0.4 best and the three tie for best
    const keep = [0, 2, 3, 4, 6, 8, 9];
    const t = keep.map((i) => truth[i]);
    const ps = keep.map((i) => preds[i]);
    // in scope rows 0, 2, 3, 4 (right: 0, 2); oos rows 6, 8, 9: t = 0.6 → (2/4, 2/3) = 0.7 (hm 0.5714), as for 0.7 and 0.8
    const b = bestThreshold(t, ps, 'oos');
    expect(b.threshold).toBe(0.6);
    expect(b.balance).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 12);
    expect(balance(intentMetrics(t, ps, 'oos', 0.8))).toBeCloseTo(b.balance, 12);
  });

  test('bestThreshold moves up when low scores belong to out-of-scope queries', () => {
    const t = ['a', 'a', 'oos', 'oos'];
    const ps = [p(['a'], 0.9), p(['a'], 0.8), p(['a'], 0.5), p(['a'], 0.4)];
    // t = 0.8: both in-scope answered (0.8 is not below it), both oos below → hm(1, 1) = 1; 0.9 would lose row 1
    expect(bestThreshold(t, ps, 'oos')).toEqual({ threshold: 0.8, balance: 1 });
  });

  test('top-3 accuracy: in-scope queries whose intent is among the first three, whatever the threshold', () => {
    const ps = [p(['x', 'y', 'a', 'z'], 0.1), p(['x', 'y', 'z', 'a'], 0.9), p(['a'], 0.2), p(['oos'], 0.9)];
    expect(topKAccuracy(['a', 'a', 'a', 'oos'], ps, 'oos')).toBe(2 / 3);
    expect(topKAccuracy(['a', 'a', 'a', 'oos'], ps, 'oos', 1)).toBe(1 / 3);
    expect(topKAccuracy(['oos'], [p(['oos'], 1)], 'oos')).toBeNull();
  });
});
