/**
 * Classification metrics with scikit-learn's definitions (sklearn.metrics), on label ids 0..k−1:
 *
 *   confusion_matrix   C[i][j] = rows whose true label is i and predicted label is j (rows true, columns predicted)
 *   accuracy_score     Σ_i C[i][i] / n
 *   precision_recall_fscore_support (zero_division=0), per label j:
 *     support_j   = Σ_i C[j][i]            predicted_j = Σ_i C[i][j]
 *     precision_j = C[j][j] / predicted_j  (0 when j is never predicted)
 *     recall_j    = C[j][j] / support_j    (0 when j never occurs)
 *     f1_j        = 2·C[j][j] / (support_j + predicted_j)   (sklearn's own form; 0 when both are 0)
 *   f1_score(average="macro") = mean of f1_j over the labels sklearn uses by default, unique_labels(y_true, y_pred):
 *     those that occur in y_true or y_pred. A label of the model that is in neither is still listed in per_class
 *     (all zeros) but does not pull the average down.
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  n: number;
  accuracy: number;
  macro_f1: number;
  /** Every label, in the order given. */
  per_class: Record<string, ClassMetrics>;
  confusion_matrix: { labels: string[]; matrix: number[][] };
}

/** Index of the largest value (the first one on a tie, as numpy.argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function checkIds(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): void {
  if (yTrue.length !== yPred.length) throw new RangeError(`y_true has ${yTrue.length} rows but y_pred ${yPred.length}`);
  if (yTrue.length === 0) throw new RangeError('no rows to score');
  for (const y of [yTrue, yPred]) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= k) throw new RangeError(`label id ${y[i]} at row ${i} is outside [0, ${k})`);
    }
  }
}

/** The k×k confusion matrix (rows = true label, columns = predicted label). */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number[][] {
  checkIds(yTrue, yPred, k);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (yTrue.length !== yPred.length || yTrue.length === 0) throw new RangeError(`bad lengths ${yTrue.length} and ${yPred.length}`);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/** Per-label precision, recall, F1 and support from a confusion matrix, and the macro F1 over the labels present. */
function fromConfusion(m: number[][]): { perClass: ClassMetrics[]; macroF1: number } {
  const k = m.length;
  const perClass: ClassMetrics[] = [];
  let f1Sum = 0;
  let present = 0;
  for (let j = 0; j < k; j++) {
    const tp = m[j][j];
    let support = 0;
    let predicted = 0;
    for (let i = 0; i < k; i++) {
      support += m[j][i];
      predicted += m[i][j];
    }
    const f1 = support + predicted === 0 ? 0 : (2 * tp) / (support + predicted);
    perClass.push({
      precision: predicted === 0 ? 0 : tp / predicted,
      recall: support === 0 ? 0 : tp / support,
      f1,
      support,
    });
    if (support + predicted > 0) {
      f1Sum += f1;
      present++;
    }
  }
  return { perClass, macroF1: f1Sum / present };
}

/** sklearn's f1_score(y_true, y_pred, average="macro"). */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number {
  return fromConfusion(confusionMatrix(yTrue, yPred, k)).macroF1;
}

/** All of the above for label ids into `labels` (the model's labels, in id order). */
export function classificationMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels: readonly string[]): ClassificationMetrics {
  const matrix = confusionMatrix(yTrue, yPred, labels.length);
  const { perClass, macroF1: macro } = fromConfusion(matrix);
  let correct = 0;
  for (let j = 0; j < labels.length; j++) correct += matrix[j][j];
  return {
    n: yTrue.length,
    accuracy: correct / yTrue.length,
    macro_f1: macro,
    // fromEntries makes own properties, so a label such as "__proto__" is just a key
    per_class: Object.fromEntries(labels.map((label, j) => [label, perClass[j]])),
    confusion_matrix: { labels: [...labels], matrix },
  };
}
