import { accuracy, argmax, classificationMetrics, confusionMatrix, macroF1 } from '../../../src/eval/classification-metrics.js';

// Hand-computed fixture. Labels a b c d e (ids 0..4); d occurs but is never predicted; e is in neither.
//   y_true  a a a b b c c c d d
//   y_pred  a b a b b c a c c a
// confusion (rows true, columns predicted):
//   a [2 1 0 0 0]   b [0 2 0 0 0]   c [1 0 2 0 0]   d [1 0 1 0 0]   e [0 0 0 0 0]
// predicted per column: a 4, b 3, c 3, d 0, e 0; support: a 3, b 2, c 3, d 2, e 0
const LABELS = ['a', 'b', 'c', 'd', 'e'];
const Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 3, 3];
const Y_PRED = [0, 1, 0, 1, 1, 2, 0, 2, 2, 0];

describe('classification metrics (sklearn definitions), hand-computed', () => {
  test('confusion matrix: rows are true labels, columns predicted', () => {
    expect(confusionMatrix(Y_TRUE, Y_PRED, 5)).toEqual([
      [2, 1, 0, 0, 0],
      [0, 2, 0, 0, 0],
      [1, 0, 2, 0, 0],
      [1, 0, 1, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
  });

  test('accuracy = 6/10', () => {
    expect(accuracy(Y_TRUE, Y_PRED)).toBe(0.6);
  });

  test('per class: precision TP/predicted, recall TP/support, F1 2TP/(support+predicted); zero_division → 0', () => {
    const m = classificationMetrics(Y_TRUE, Y_PRED, LABELS);
    expect(m.n).toBe(10);
    expect(m.per_class.a).toEqual({ precision: 2 / 4, recall: 2 / 3, f1: 4 / 7, support: 3 });
    expect(m.per_class.b).toEqual({ precision: 2 / 3, recall: 1, f1: 4 / 5, support: 2 });
    expect(m.per_class.c).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: 4 / 6, support: 3 });
    // never predicted: precision 0 (not NaN), recall 0/2, F1 0
    expect(m.per_class.d).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    // in neither y_true nor y_pred: listed with zeros
    expect(m.per_class.e).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(Object.keys(m.per_class)).toEqual(LABELS);
    expect(m.confusion_matrix.labels).toEqual(LABELS);
  });

  test('macro F1 averages over the labels in y_true ∪ y_pred (sklearn default): e does not count, d does', () => {
    const expected = (4 / 7 + 4 / 5 + 4 / 6 + 0) / 4;
    expect(classificationMetrics(Y_TRUE, Y_PRED, LABELS).macro_f1).toBeCloseTo(expected, 15);
    expect(macroF1(Y_TRUE, Y_PRED, 5)).toBeCloseTo(expected, 15);
  });

  test('a label predicted but absent from y_true: precision 0, recall 0 (zero_division), F1 0, and it lowers the macro F1', () => {
    // sklearn: f1_score(["x","x","x"], ["x","y","x"], average="macro") = (0.8 + 0) / 2 = 0.4
    const m = classificationMetrics([0, 0, 0], [0, 1, 0], ['x', 'y']);
    expect(m.per_class.x).toEqual({ precision: 1, recall: 2 / 3, f1: 0.8, support: 3 });
    expect(m.per_class.y).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.macro_f1).toBeCloseTo(0.4, 15);
  });

  test('perfect predictions: every score 1', () => {
    const m = classificationMetrics([0, 1, 2, 1], [0, 1, 2, 1], ['p', 'q', 'r']);
    expect(m.accuracy).toBe(1);
    expect(m.macro_f1).toBe(1);
    for (const c of Object.values(m.per_class)) expect([c.precision, c.recall, c.f1]).toEqual([1, 1, 1]);
  });

  test('a label such as "__proto__" is an ordinary key', () => {
    const m = classificationMetrics([0, 1], [0, 1], ['__proto__', 'constructor']);
    expect(Object.keys(m.per_class)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(m)).per_class.__proto__.support).toBe(1);
  });

  test('argmax takes the first maximum (numpy.argmax)', () => {
    expect(argmax(Float32Array.from([0.2, 0.4, 0.4]))).toBe(1);
    expect(argmax([0.9, 0.1])).toBe(0);
  });

  test('bad input is a RangeError: length mismatch, empty, id out of range', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(RangeError);
    expect(() => confusionMatrix([], [], 2)).toThrow(RangeError);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/label id 2/);
  });
});
