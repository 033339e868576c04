import { accuracy, macroF1 } from './classification-metrics.js';
import { SoftmaxRegression } from './softmax-regression.js';
import { TfidfVectorizer } from './tfidf.js';

/**
 * What a model must beat to be worth its size, scored on the same test rows:
 *
 *   majority    always the most frequent label of the training labels (sklearn's DummyClassifier(strategy=
 *               "most_frequent"); a tie goes to the label first in the model's order)
 *   bow_logreg  TF-IDF (tfidf.ts) + logistic regression (softmax-regression.ts) fitted on the training texts:
 *               sklearn's make_pipeline(TfidfVectorizer(), LogisticRegression()) with their defaults
 *
 * Texts with a pair column are one text here: "text pair" joined by a space.
 */

export interface BaselineScores {
  accuracy: number;
  macro_f1: number;
}

export interface LabelledTexts {
  texts: readonly string[];
  /** Label ids into the model's labels. */
  y: ArrayLike<number>;
}

function scores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): BaselineScores {
  return { accuracy: accuracy(yTrue, yPred), macro_f1: macroF1(yTrue, yPred, k) };
}

/** The most frequent id in `y` (the lowest id on a tie). */
export function mostFrequent(y: ArrayLike<number>, k: number): number {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  let best = 0;
  for (let c = 1; c < k; c++) if (counts[c] > counts[best]) best = c;
  return best;
}

/** Majority-class baseline: `fitY` are the labels it learns from (the training set, else the test set itself). */
export function majorityBaseline(fitY: ArrayLike<number>, testY: ArrayLike<number>, k: number): BaselineScores {
  const label = mostFrequent(fitY, k);
  return scores(testY, new Int32Array(testY.length).fill(label), k);
}

/** TF-IDF + logistic regression fitted on `train`, scored on `test`. */
export function bowLogregBaseline(train: LabelledTexts, test: LabelledTexts, k: number): BaselineScores {
  const vectorizer = TfidfVectorizer.fit(train.texts);
  const model = SoftmaxRegression.fit(vectorizer.transform(train.texts), train.y, k);
  return scores(test.y, model.predict(vectorizer.transform(test.texts)), k);
}
