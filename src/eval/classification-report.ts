import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { biasMetrics, countRow, emptyBiasCounts, type BiasCounts, type BiasMetrics } from '../data/bias.js';
import { ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE } from '../export/export-folder.js';
import type { TextClassifier } from '../infer/text-classifier.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { progress } from '../util/progress.js';
import { labelIds, readLabeledCsv } from '../finetune/labeled-data.js';
import { bowLogregBaseline, majorityBaseline, type BaselineScores } from './baselines.js';
import { ascending, bootstrapMeanCi95, percentile } from './bootstrap.js';
import { calibration, type ReliabilityBin } from './calibration.js';
import { accuracy, argmax, classificationMetrics, type ClassMetrics } from './classification-metrics.js';
import { perturbTexts, type Perturbation } from './perturb.js';

/**
 * `compactlm eval` for a text classifier: runs the model over a labelled test CSV and puts together the report,
 * every number with a published definition (see each module): accuracy with a bootstrap 95% interval, macro F1,
 * per-class precision/recall/F1 and the confusion matrix (sklearn), ECE (Guo et al. 2017), majority and TF-IDF +
 * logistic-regression baselines, accuracy on typo and synonym copies of the test set, the group-fairness metrics
 * of bias-report on the predictions (AIF360), and single-text latency.
 *
 * latency_ms always has one entry per precision measured, {fp32?: {p50, p95}, int8?: {p50, p95}}: the precision
 * evaluated (int8 with --int8, else fp32), plus the other one when the folder is an export with both
 * onnx/model.onnx and onnx/model_quantized.onnx.
 */

export interface ClassifyEvalOptions {
  model: string;
  test: string;
  textColumn: string;
  labelColumn: string;
  pairColumn?: string;
  /** Training CSV (same columns): the majority label comes from it, and it trains the bow_logreg baseline. */
  train?: string;
  /** Group-fairness metrics by this column; `privileged` defaults to its most frequent value. */
  bias?: { protected: string; favorable: string; privileged?: string };
  maxLength: number;
  batchSize: number;
  int8: boolean;
  seed: number;
}

/** How the classifier is opened (infer/classifier.ts's loadTextClassifier; tests may pass another). */
export type LoadClassifier = (dir: string, o: { int8?: boolean; maxLength?: number; batchSize?: number }) => Promise<TextClassifier>;

export interface LatencyMs {
  p50: number;
  p95: number;
}

/**
 * bias-report's metrics on the test set and the predictions: disparate_impact and statistical_parity_difference
 * are of the true labels (the data), EOD/AOD of the predictions; predicted_disparate_impact and
 * predicted_statistical_parity_difference are AIF360 ClassificationMetric's, of the predictions' selection rates.
 */
export interface EvalBias extends BiasMetrics {
  protected: string;
  privileged: string;
  favorable: string;
  predicted_disparate_impact: number | null;
  predicted_statistical_parity_difference: number | null;
}

export interface ClassificationReport {
  task: 'classify';
  test: string;
  train: string | null;
  n: number;
  labels: string[];
  accuracy: number;
  accuracy_ci95: [number, number];
  macro_f1: number;
  per_class: Record<string, ClassMetrics>;
  confusion_matrix: { labels: string[]; matrix: number[][] };
  ece: number;
  baselines: { majority: BaselineScores; bow_logreg?: BaselineScores };
  robustness: Record<Perturbation, { accuracy: number }>;
  bias?: EvalBias;
  latency_ms: { fp32?: LatencyMs; int8?: LatencyMs };
  model: { path: string; precision: 'fp32' | 'int8'; parameters: number; files: Record<string, number> };
  seed: number;
}

/** Texts timed one at a time for latency_ms, after the warm-up runs (not timed). */
export const LATENCY_TEXTS = 100;
export const LATENCY_WARMUP = 5;

/** The rows of a labelled CSV, labels as ids into the model's labels. */
export interface LabelledRows {
  texts: string[];
  pairs?: string[];
  y: Int32Array;
  /** Protected-attribute values (trimmed), with a bias column. */
  groups?: string[];
}

/** Reads a labelled CSV (finetune's reader and checks); a label that is not one of the model's is an error naming the row. */
export async function readLabelledCsv(
  file: string,
  columns: { text: string; label: string; pair?: string; protected?: string },
  labels: readonly string[],
): Promise<LabelledRows> {
  const rows = await readLabeledCsv(file, { textColumn: columns.text, labelColumn: columns.label, pairColumn: columns.pair, groupColumn: columns.protected });
  return {
    texts: rows.texts,
    y: Int32Array.from(labelIds(rows, labels, 'labels of the model')),
    ...(rows.pairs ? { pairs: rows.pairs } : {}),
    ...(rows.groups ? { groups: rows.groups } : {}),
  };
}

/** Probabilities for every text, `batchSize` texts per predict call. */
async function predictAll(clf: TextClassifier, texts: readonly string[], pairs: readonly string[] | undefined, batchSize: number, what: string): Promise<Float32Array[]> {
  const bar = progress(`eval ${what}`, texts.length, 'texts');
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    out.push(...(await clf.predict(texts.slice(i, i + batchSize), pairs?.slice(i, i + batchSize))));
    bar.update(out.length);
  }
  bar.stop();
  return out;
}

/** Median and 95th percentile of one-text predict calls, after LATENCY_WARMUP untimed ones. */
export async function measureLatency(clf: TextClassifier, texts: readonly string[], pairs?: readonly string[]): Promise<LatencyMs> {
  const one = (i: number) => clf.predict([texts[i % texts.length]], pairs ? [pairs[i % texts.length]] : undefined);
  for (let i = 0; i < LATENCY_WARMUP; i++) await one(i);
  const ms: number[] = [];
  for (let i = 0; i < Math.min(texts.length, LATENCY_TEXTS); i++) {
    const t0 = performance.now();
    await one(i);
    ms.push(performance.now() - t0);
  }
  const sorted = ascending(ms);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/**
 * bias-report's counts (data/bias.ts) built from predictions instead of a CSV column: favorable = the label
 * `favorable` (true) or its prediction; privileged = rows whose group is `privileged`.
 */
export function predictionBiasCounts(groups: readonly string[], yTrue: ArrayLike<number>, yPred: ArrayLike<number>, favorable: number, privileged: string): BiasCounts {
  const counts = emptyBiasCounts();
  groups.forEach((value, i) => countRow(counts, value, value === privileged, yTrue[i] === favorable, yPred[i] === favorable));
  return counts;
}

/** The most frequent value (the first seen on a tie). */
function mostFrequentValue(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0];
  for (const [v, c] of counts) if (c > counts.get(best)!) best = v;
  return best;
}

/** The bias settings checked against the model and the test set, before any prediction is made. */
interface BiasGroups {
  protected: string;
  privileged: string;
  /** Label id of the favorable outcome. */
  favorable: number;
}

function biasGroups(o: NonNullable<ClassifyEvalOptions['bias']>, groups: readonly string[], labels: readonly string[], file: string): BiasGroups {
  const favorable = labels.indexOf(o.favorable.trim());
  if (favorable < 0) {
    throw new UserError(`--favorable ${JSON.stringify(o.favorable)} is not one of the model's labels (${labels.map((l) => JSON.stringify(l)).join(', ')})`, 2);
  }
  const privileged = o.privileged?.trim() ?? mostFrequentValue(groups);
  if (o.privileged === undefined) log().info(`bias: privileged group ${o.protected} = ${JSON.stringify(privileged)} (its most frequent value; set it with --privileged)`);
  if (!groups.includes(privileged)) throw new UserError(`${file}: column "${o.protected}" has no value ${JSON.stringify(privileged)} (--privileged)`);
  return { protected: o.protected, privileged, favorable };
}

function evalBias(g: BiasGroups, groups: readonly string[], yTrue: Int32Array, yPred: Int32Array, labels: readonly string[]): EvalBias {
  const m = biasMetrics(predictionBiasCounts(groups, yTrue, yPred, g.favorable, g.privileged), true);
  for (const w of m.warnings) log().warn(`bias: ${w}`);
  const [priv, unpriv] = [m.groups.privileged.selection_rate ?? null, m.groups.unprivileged.selection_rate ?? null];
  return {
    protected: g.protected, privileged: g.privileged, favorable: labels[g.favorable], ...m,
    predicted_disparate_impact: priv === null || unpriv === null || priv === 0 ? null : unpriv / priv,
    predicted_statistical_parity_difference: priv === null || unpriv === null ? null : unpriv - priv,
  };
}

function exportHasBoth(dir: string): boolean {
  return existsSync(join(dir, ONNX_MODEL_FILE)) && existsSync(join(dir, ONNX_QUANTIZED_FILE));
}

export interface ClassificationEval {
  report: ClassificationReport;
  /** The 15 bins of the ECE, for the reliability diagram. */
  reliability: ReliabilityBin[];
}

export async function evaluateClassification(o: ClassifyEvalOptions, load: LoadClassifier): Promise<ClassificationEval> {
  const precision = o.int8 ? 'int8' : 'fp32';
  const clf = await load(o.model, { int8: o.int8, maxLength: o.maxLength, batchSize: o.batchSize });
  let result: ClassificationEval;
  let test: LabelledRows;
  try {
    const labels = [...clf.labels];
    const columns = { text: o.textColumn, label: o.labelColumn, pair: o.pairColumn };
    test = await readLabelledCsv(o.test, { ...columns, protected: o.bias?.protected }, labels);
    const train = o.train === undefined ? undefined : await readLabelledCsv(o.train, columns, labels);
    const bias = o.bias ? biasGroups(o.bias, test.groups!, labels, o.test) : undefined;

    const probs = await predictAll(clf, test.texts, test.pairs, o.batchSize, 'test');
    const yPred = Int32Array.from(probs, argmax);
    const metrics = classificationMetrics(test.y, yPred, labels);
    const correct = Array.from(yPred, (p, i) => p === test.y[i]);
    const cal = calibration(probs.map((p) => p[argmax(p)]), correct);

    const k = labels.length;
    const joined = (rows: LabelledRows) => (rows.pairs ? rows.texts.map((t, i) => `${t} ${rows.pairs![i]}`) : rows.texts);
    const baselines: ClassificationReport['baselines'] = { majority: majorityBaseline(train?.y ?? test.y, test.y, k) };
    if (train) baselines.bow_logreg = bowLogregBaseline({ texts: joined(train), y: train.y }, { texts: joined(test), y: test.y }, k);

    const robustness = {} as ClassificationReport['robustness'];
    for (const kind of ['typos', 'synonyms'] as const) {
      const copy = perturbTexts(kind, test.texts, test.pairs, o.seed);
      const predicted = Int32Array.from(await predictAll(clf, copy.texts, copy.pairs, o.batchSize, kind), argmax);
      robustness[kind] = { accuracy: accuracy(test.y, predicted) };
    }

    const latency: ClassificationReport['latency_ms'] = { [precision]: await measureLatency(clf, test.texts, test.pairs) };
    result = {
      report: {
        task: 'classify',
        test: o.test,
        train: o.train ?? null,
        n: metrics.n,
        labels,
        accuracy: metrics.accuracy,
        accuracy_ci95: bootstrapMeanCi95(correct.map(Number), { seed: o.seed }),
        macro_f1: metrics.macro_f1,
        per_class: metrics.per_class,
        confusion_matrix: metrics.confusion_matrix,
        ece: cal.ece,
        baselines,
        robustness,
        ...(bias ? { bias: evalBias(bias, test.groups!, test.y, yPred, labels) } : {}),
        latency_ms: latency,
        model: { path: o.model, precision, parameters: clf.parameters, files: { ...clf.files } },
        seed: o.seed,
      },
      reliability: cal.bins,
    };
  } finally {
    await clf.close();
  }

  // an export with both precisions: time the other one as well (loaded only now, so one model is in memory at a time)
  if (exportHasBoth(o.model)) {
    const other = o.int8 ? 'fp32' : 'int8';
    const clf2 = await load(o.model, { int8: !o.int8, maxLength: o.maxLength, batchSize: o.batchSize });
    try {
      result.report.latency_ms[other] = await measureLatency(clf2, test.texts, test.pairs);
    } finally {
      await clf2.close();
    }
    // fp32 before int8 in the JSON, whichever was evaluated
    result.report.latency_ms = { fp32: result.report.latency_ms.fp32, int8: result.report.latency_ms.int8 };
  }
  return result;
}
