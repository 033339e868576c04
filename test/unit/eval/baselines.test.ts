import { bowLogregBaseline, majorityBaseline, mostFrequent } from '../../../src/eval/baselines.js';
import { lbfgs, SoftmaxRegression } from '../../../src/eval/softmax-regression.js';
import { TfidfVectorizer, tokenize, type SparseRows } from '../../../src/eval/tfidf.js';

/** Dense rows → CSR (zeros left out). */
function sparse(rows: number[][]): SparseRows {
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const r of rows) {
    r.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    });
    indptr.push(indices.length);
  }
  return { rows: rows.length, cols: rows[0]?.length ?? 0, indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

/** Row r of a CSR matrix as term → value. */
function rowOf(x: SparseRows, r: number, terms: ReadonlyMap<string, number>): Record<string, number> {
  const name = new Map([...terms].map(([t, j]) => [j, t]));
  const out: Record<string, number> = {};
  for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) out[name.get(x.indices[p])!] = x.values[p];
  return out;
}

describe('majority baseline', () => {
  test('predicts the most frequent training label; hand-computed accuracy and macro F1', () => {
    // always 0 on test [1, 1, 0]: accuracy 1/3; class 0 P 1/3 R 1 F1 2·1/(1+3) = 0.5, class 1 F1 0 → macro 0.25
    expect(majorityBaseline([0, 0, 1], [1, 1, 0], 2)).toEqual({ accuracy: 1 / 3, macro_f1: 0.25 });
  });

  test('a tie goes to the lowest id (the first of the model\'s labels)', () => {
    expect(mostFrequent([2, 1, 1, 2], 3)).toBe(1);
    expect(mostFrequent([2], 3)).toBe(2);
  });
});

describe('TF-IDF (sklearn TfidfVectorizer defaults)', () => {
  test('tokens: lowercase runs of 2+ word characters; one-letter words are dropped', () => {
    expect(tokenize('A cat, the CAT! x_1 Ünïcode 42 é')).toEqual(['cat', 'the', 'cat', 'x_1', 'ünïcode', '42']);
  });

  test('hand-computed: idf = ln((1+n)/(1+df)) + 1, rows scaled to unit L2 norm, unknown terms ignored', () => {
    const v = TfidfVectorizer.fit(['a cat cat', 'the dog', 'the cat']);
    expect(v.features).toBe(3);
    const x = v.transform(['cat the the', 'bird', 'dog']);
    // idf: cat df 2 → ln(4/3)+1, the df 2 → same, dog df 1 → ln(2)+1
    const idf = Math.log(4 / 3) + 1;
    const norm = Math.sqrt((1 * idf) ** 2 + (2 * idf) ** 2);
    const r0 = rowOf(x, 0, v.terms);
    expect(r0.cat).toBeCloseTo(idf / norm, 15);
    expect(r0.the).toBeCloseTo((2 * idf) / norm, 15);
    expect(rowOf(x, 1, v.terms)).toEqual({}); // no known term: an all-zero row
    expect(rowOf(x, 2, v.terms)).toEqual({ dog: 1 });
  });
});

describe('L-BFGS', () => {
  test('finds the minimum of a badly scaled quadratic', () => {
    const a = [1, 100, 0.01];
    const c = [3, -2, 5];
    const x = lbfgs((x, g) => {
      let f = 0;
      for (let i = 0; i < 3; i++) {
        f += a[i] * (x[i] - c[i]) ** 2;
        g[i] = 2 * a[i] * (x[i] - c[i]);
      }
      return f;
    }, new Float64Array(3), { maxIterations: 200, gradientTolerance: 1e-10 });
    for (let i = 0; i < 3; i++) expect(x[i]).toBeCloseTo(c[i], 6);
  });
});

describe('logistic regression (sklearn LogisticRegression defaults: C = 1, unpenalized intercept)', () => {
  // the closed-form checks fit to a tight tolerance: they test the objective, not where the default stops
  const TIGHT = { gradientTolerance: 1e-10 };
  test('no features: the intercepts alone give the class frequencies (multinomial, 3 classes)', () => {
    const x = sparse([[0], [0], [0], [0], [0], [0]]);
    const m = SoftmaxRegression.fit(x, [0, 0, 0, 1, 2, 2], 3, TIGHT);
    const [p] = m.predictProba(sparse([[0]]));
    expect(p[0]).toBeCloseTo(3 / 6, 6);
    expect(p[1]).toBeCloseTo(1 / 6, 6);
    expect(p[2]).toBeCloseTo(2 / 6, 6);
  });

  test('binomial as sklearn fits it: one penalized weight w; two points x = ±1 give 2σ(w) − 2 + w = 0', () => {
    // ∂/∂w [½(−ln σ(w) − ln σ(w)) + w²/(2·C·n)] with n = 2, C = 1: (σ(w) − 1) + w/2 = 0 ⇔ 2σ(w) − 2 + w = 0; b = 0
    const m = SoftmaxRegression.fit(sparse([[1], [-1]]), [1, 0], 2, TIGHT);
    const [p] = m.predictProba(sparse([[1]]));
    const w = Math.log(p[1] / p[0]);
    expect(2 * p[1] - 2 + w).toBeCloseTo(0, 6);
    expect(w).toBeCloseTo(0.6749, 3);
    expect(m.predictProba(sparse([[0]]))[0][1]).toBeCloseTo(0.5, 6); // the intercept is 0 by symmetry
  });

  test('a class absent from the training labels gets probability 0; one training class predicts it always', () => {
    const m = SoftmaxRegression.fit(sparse([[1, 0], [0, 1], [1, 1]]), [0, 2, 2], 3);
    for (const p of m.predictProba(sparse([[1, 0], [0, 1]]))) expect(p[1]).toBe(0);
    const one = SoftmaxRegression.fit(sparse([[1], [0]]), [1, 1], 3);
    expect(Array.from(one.predict(sparse([[5], [0]])))).toEqual([1, 1]);
  });

  test('bow_logreg learns an easy text task and scores the test rows', () => {
    const train = {
      texts: ['good great fine', 'great movie good', 'good fun', 'bad awful', 'awful boring bad', 'boring bad film', 'ok meh', 'meh so so'],
      y: [0, 0, 0, 1, 1, 1, 2, 2],
    };
    const test = { texts: ['good film', 'awful movie', 'meh'], y: [0, 1, 2] };
    expect(bowLogregBaseline(train, test, 3)).toEqual({ accuracy: 1, macro_f1: 1 });
  });
});
