/**
 * Reference test: `compactlm eval`'s metrics against scikit-learn on fixed fixtures. One Python process
 * (sklearn_metrics.py) computes accuracy_score, f1_score(average="macro"), precision_recall_fscore_support,
 * confusion_matrix, numpy.percentile, TfidfVectorizer and LogisticRegression on the same inputs; the tests compare
 * (metrics to 1e-12; the logistic regression to the optimizers' tolerance, since it is an iterative fit).
 *
 * Needs the reference Python (python.ts) with scikit-learn: skipped with one line without it, failing under
 * CI=true or with a COMPACTLM_PYTHON that lacks scikit-learn.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bowLogregBaseline } from '../../src/eval/baselines.js';
import { ascending, percentile } from '../../src/eval/bootstrap.js';
import { classificationMetrics } from '../../src/eval/classification-metrics.js';
import { SoftmaxRegression } from '../../src/eval/softmax-regression.js';
import { TfidfVectorizer } from '../../src/eval/tfidf.js';
import { Rng } from '../../src/util/rng.js';
import { describeWithPython, REPO } from './python.js';

const TOL = 1e-12;

interface Case { name: string; labels: string[]; y_true: string[]; y_pred: string[] }

/** Random labels from `labels` with the given weights; `wrong` is the share of predictions replaced by another label. */
function randomCase(name: string, labels: string[], n: number, seed: number, o: { wrong: number; never?: string[]; trueNever?: string[] }): Case {
  const rng = new Rng(seed);
  const pick = (from: string[]) => from[rng.int(from.length)];
  const trueFrom = labels.filter((l) => !(o.trueNever ?? []).includes(l));
  const predFrom = labels.filter((l) => !(o.never ?? []).includes(l));
  const y_true = Array.from({ length: n }, () => pick(trueFrom));
  const y_pred = y_true.map((y) => (rng.next() < o.wrong || (o.never ?? []).includes(y) ? pick(predFrom) : y));
  return { name, labels, y_true, y_pred };
}

const CASES: Case[] = [
  randomCase('binary', ['neg', 'pos'], 200, 1, { wrong: 0.3 }),
  // d is never predicted, e never occurs in y_true (but is predicted), f is in neither
  randomCase('never predicted / absent from y_true / in neither', ['a', 'b', 'c', 'd', 'e', 'f'], 300, 2, { wrong: 0.4, never: ['d', 'f'], trueNever: ['e', 'f'] }),
  {
    name: 'hand-computed (unit test fixture)', labels: ['a', 'b', 'c', 'd', 'e'],
    y_true: ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'c', 'd', 'd'], y_pred: ['a', 'b', 'a', 'b', 'b', 'c', 'a', 'c', 'c', 'a'],
  },
  { name: 'one label predicted for every row', labels: ['x', 'y', 'z'], y_true: ['x', 'y', 'z', 'z', 'y'], y_pred: ['z', 'z', 'z', 'z', 'z'] },
  randomCase('20 classes', Array.from({ length: 20 }, (_, i) => `intent_${i}`), 1000, 3, { wrong: 0.25 }),
  randomCase('odd label strings', ['é', '__proto__', 'a b', 'Z'], 120, 4, { wrong: 0.5 }),
];

/** The UCI Sentiment Labelled Sentences that ship with sentiment@5.0.2 (each file ends with an empty item). */
function sentences(site: 'amazon' | 'yelp' | 'imdb'): { text: string; class: number }[] {
  const items = JSON.parse(readFileSync(join(REPO, 'node_modules', 'sentiment', 'test', 'fixtures', `${site}.json`), 'utf8')) as { text: string; class: number | null }[];
  return items.filter((x): x is { text: string; class: number } => x.class !== null);
}

const SITES = ['amazon', 'yelp', 'imdb'] as const;
const DATA = Object.fromEntries(SITES.map((s) => [s, sentences(s)])) as Record<(typeof SITES)[number], { text: string; class: number }[]>;
const LOGREG = [
  {
    name: 'binary sentiment: amazon + yelp → imdb',
    train: { texts: [...DATA.amazon, ...DATA.yelp].map((x) => x.text), y: [...DATA.amazon, ...DATA.yelp].map((x) => x.class) },
    test: { texts: DATA.imdb.map((x) => x.text), y: DATA.imdb.map((x) => x.class) },
  },
  {
    name: 'three classes: which site a sentence is from',
    train: { texts: SITES.flatMap((s) => DATA[s].slice(0, 700).map((x) => x.text)), y: SITES.flatMap((s, i) => DATA[s].slice(0, 700).map(() => i)) },
    test: { texts: SITES.flatMap((s) => DATA[s].slice(700).map((x) => x.text)), y: SITES.flatMap((s, i) => DATA[s].slice(700).map(() => i)) },
  },
];
const TFIDF = {
  train: DATA.amazon.slice(0, 500).map((x) => x.text).concat(['Café crème, naïve façade', 'x_1 y_2 42 4 under_score']),
  test: DATA.imdb.slice(0, 100).map((x) => x.text).concat(['CAFÉ and the naïve x_1', 'unknown words only zzz', '']),
};
const PERCENTILE = { values: Array.from({ length: 999 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1), q: [0, 2.5, 50, 95, 97.5, 100] };

interface SkMetrics {
  accuracy: number;
  macro_f1: number;
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion_matrix: number[][];
}
interface SkFit { classes: number[]; proba: number[][]; pred: number[]; accuracy: number; macro_f1: number }
interface SkResult {
  sklearn: string;
  cases: SkMetrics[];
  percentile: number[];
  tfidf: { features: number; rows: Record<string, number>[] };
  logreg: { name: string; tight: SkFit; default: SkFit }[];
}

function close(a: number, b: number, tol = TOL): void {
  if (!(Math.abs(a - b) <= tol)) throw new Error(`${a} vs ${b}: differ by ${Math.abs(a - b)} (> ${tol})`);
}

function hasSklearn(python: string): boolean {
  return spawnSync(python, ['-c', 'import sklearn'], { timeout: 60_000 }).status === 0;
}

describeWithPython('eval metrics vs scikit-learn', (python) => {
  // python is '' when describeWithPython skips (it still collects the body): nothing to probe then
  if (python !== '' && !hasSklearn(python)) {
    if (process.env.CI === 'true' || process.env.COMPACTLM_PYTHON) {
      test('the reference Python has scikit-learn', () => {
        throw new Error(`${python} has no scikit-learn: install it there (pip install scikit-learn; .ci/run installs the reference packages)`);
      });
    } else {
      process.stderr.write(`sklearn reference tests skipped: ${python} has no scikit-learn; set COMPACTLM_PYTHON\n`);
      test.skip('scikit-learn reference', () => {});
    }
    return;
  }

  let sk: SkResult;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'sklearn-ref-'));
    try {
      const input = join(dir, 'fixture.json');
      writeFileSync(input, JSON.stringify({ cases: CASES, percentile: PERCENTILE, tfidf: TFIDF, logreg: LOGREG }));
      const r = spawnSync(python, [join(REPO, 'test', 'reference', 'sklearn_metrics.py'), input], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000 });
      if (r.status !== 0) throw new Error(`sklearn_metrics.py failed (${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-2000)}`);
      sk = JSON.parse(r.stdout) as SkResult;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(CASES.map((c, i) => [c.name, i] as const))('%s: accuracy, macro F1, per-class PRF and confusion matrix to 1e-12', (_name, i) => {
    const c = CASES[i];
    const id = (l: string) => c.labels.indexOf(l);
    const ours = classificationMetrics(c.y_true.map(id), c.y_pred.map(id), c.labels);
    const ref = sk.cases[i];
    close(ours.accuracy, ref.accuracy);
    close(ours.macro_f1, ref.macro_f1);
    expect(Object.keys(ours.per_class)).toEqual(c.labels);
    for (const l of c.labels) {
      for (const k of ['precision', 'recall', 'f1'] as const) close(ours.per_class[l][k], ref.per_class[l][k]);
      expect(ours.per_class[l].support).toBe(ref.per_class[l].support);
    }
    expect(ours.confusion_matrix.matrix).toEqual(ref.confusion_matrix);
  });

  test('the fixtures cover a class never predicted, a class absent from y_true, and one in neither', () => {
    const c = CASES[1];
    expect(c.y_pred).not.toContain('d');
    expect(c.y_true).toContain('d');
    expect(c.y_true).not.toContain('e');
    expect(c.y_pred).toContain('e');
    expect([...c.y_true, ...c.y_pred]).not.toContain('f');
  });

  test('percentile = numpy.percentile (linear)', () => {
    const sorted = ascending(PERCENTILE.values);
    PERCENTILE.q.forEach((q, i) => close(percentile(sorted, q), sk.percentile[i]));
  });

  test('TF-IDF = TfidfVectorizer() to 1e-12 (same vocabulary, same values)', () => {
    const v = TfidfVectorizer.fit(TFIDF.train);
    expect(v.features).toBe(sk.tfidf.features);
    const x = v.transform(TFIDF.test);
    const name = new Map([...v.terms].map(([t, j]) => [j, t]));
    sk.tfidf.rows.forEach((ref, r) => {
      const ours: Record<string, number> = {};
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) ours[name.get(x.indices[p])!] = x.values[p];
      expect(Object.keys(ours).sort()).toEqual(Object.keys(ref).sort());
      for (const t of Object.keys(ref)) close(ours[t], ref[t]);
    });
  });

  test.each(LOGREG.map((c, i) => [c.name, i] as const))('%s: logistic regression reaches the optimum sklearn reaches (probabilities to 1e-5)', (_name, i) => {
    const c = LOGREG[i];
    const k = c.name.startsWith('binary') ? 2 : 3;
    const v = TfidfVectorizer.fit(c.train.texts);
    const model = SoftmaxRegression.fit(v.transform(c.train.texts), c.train.y, k, { gradientTolerance: 1e-10, maxIterations: 5000 });
    const proba = model.predictProba(v.transform(c.test.texts));
    const ref = sk.logreg[i].tight;
    let worst = 0;
    proba.forEach((p, r) => ref.classes.forEach((cls, j) => { worst = Math.max(worst, Math.abs(p[cls] - ref.proba[r][j])); }));
    expect(worst).toBeLessThan(1e-5);
  });

  test.each(LOGREG.map((c, i) => [c.name, i] as const))('%s: the bow_logreg baseline (default tolerance) is within 0.01 of sklearn\'s defaults', (_name, i) => {
    // not exact: both stop at a tolerance (sklearn's default tol=1e-4, max_iter=100), so a few predictions near the
    // decision boundary may differ
    const c = LOGREG[i];
    const ours = bowLogregBaseline(c.train, c.test, c.name.startsWith('binary') ? 2 : 3);
    const ref = sk.logreg[i].default;
    expect(Math.abs(ours.accuracy - ref.accuracy)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(ours.macro_f1 - ref.macro_f1)).toBeLessThanOrEqual(0.01);
  });
});
