/**
 * `compactlm eval --task intent`: intent detection with out-of-scope queries, measured as Larson et al. (2019,
 * "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction", the CLINC150 paper) report it.
 *
 * A query is *predicted out-of-scope* when the model's best intent is the out-of-scope label, or when its score
 * (the classifier's probability, or in FAQ mode the cosine similarity of the best FAQ question) is below the
 * threshold — exactly when `compactlm chat` falls back. Then:
 * - in-scope accuracy: over the in-scope test queries, the share whose best intent is the true one and that are
 *   not predicted out-of-scope (a fallback on an in-scope query counts wrong);
 * - out-of-scope recall: over the out-of-scope queries, the share predicted out-of-scope;
 * - out-of-scope precision: over the queries predicted out-of-scope, the share that are out-of-scope (null when
 *   none is);
 * - top-3 accuracy: in-scope queries whose true intent is among the 3 best, ignoring the threshold (FAQ mode:
 *   three distinct FAQ intents).
 * The threshold is given, or chosen on --val as the one that maximises the *harmonic mean* of in-scope accuracy
 * and out-of-scope recall (it cannot be won by giving up one of them, as their mean could), lowest such
 * threshold on ties; it is then applied to the test set. Without either, only the argmax counts.
 */
import type { Topic } from '../chat/bot.js';
import { FaqBot } from '../chat/faq-bot.js';
import { byProbability } from '../chat/intent-bot.js';
import { readLabeledCsv, type LabeledRows } from '../finetune/labeled-data.js';
import { Classifier } from '../infer/classifier.js';
import { atLine, UserError } from '../util/errors.js';
import { progress } from '../util/progress.js';

/** One query's ranking: intents best first (distinct), and the best one's score. */
export interface IntentPrediction {
  ranked: string[];
  score: number;
}

export interface IntentMetrics {
  n_in_scope: number;
  n_oos: number;
  predicted_oos: number;
  in_scope_accuracy: number | null;
  oos_recall: number | null;
  oos_precision: number | null;
}

export const BALANCE = 'harmonic mean of in-scope accuracy and out-of-scope recall';
export const TOP_K = 3;

/** Whether a prediction is a fallback at `threshold` (null: no threshold). */
export function predictedOos(p: IntentPrediction, oosLabel: string, threshold: number | null): boolean {
  return p.ranked[0] === oosLabel || (threshold !== null && p.score < threshold);
}

export function intentMetrics(truth: readonly string[], preds: readonly IntentPrediction[], oosLabel: string, threshold: number | null): IntentMetrics {
  let nIn = 0, nOos = 0, inCorrect = 0, oosCaught = 0, flagged = 0;
  truth.forEach((t, i) => {
    const oos = predictedOos(preds[i], oosLabel, threshold);
    if (oos) flagged++;
    if (t === oosLabel) {
      nOos++;
      if (oos) oosCaught++;
    } else {
      nIn++;
      if (!oos && preds[i].ranked[0] === t) inCorrect++;
    }
  });
  return {
    n_in_scope: nIn,
    n_oos: nOos,
    predicted_oos: flagged,
    in_scope_accuracy: nIn ? inCorrect / nIn : null,
    oos_recall: nOos ? oosCaught / nOos : null,
    oos_precision: flagged ? oosCaught / flagged : null,
  };
}

/** The harmonic mean of in-scope accuracy and out-of-scope recall (0 when either is 0; null without both kinds). */
export function balance(m: IntentMetrics): number | null {
  const a = m.in_scope_accuracy, r = m.oos_recall;
  if (a === null || r === null) return null;
  return a + r === 0 ? 0 : (2 * a * r) / (a + r);
}

/** In-scope queries whose true intent is among the first k of the ranking. */
export function topKAccuracy(truth: readonly string[], preds: readonly IntentPrediction[], oosLabel: string, k = TOP_K): number | null {
  let n = 0, hit = 0;
  truth.forEach((t, i) => {
    if (t === oosLabel) return;
    n++;
    if (preds[i].ranked.slice(0, k).includes(t)) hit++;
  });
  return n ? hit / n : null;
}

/**
 * The threshold with the best balance on these queries: each query's score is a candidate (predicted out-of-scope
 * below it); ties go to the lowest. Needs in-scope and out-of-scope queries.
 */
export function bestThreshold(truth: readonly string[], preds: readonly IntentPrediction[], oosLabel: string): { threshold: number; balance: number } {
  const scores = [...new Set(preds.map((p) => p.score))].sort((a, b) => a - b);
  let best = { threshold: scores[0], balance: -1 };
  for (const t of scores) {
    const b = balance(intentMetrics(truth, preds, oosLabel, t));
    if (b === null) throw new Error('bestThreshold: needs in-scope and out-of-scope queries');
    if (b > best.balance) best = { threshold: t, balance: b };
  }
  return best;
}

export interface IntentEvalOptions {
  /** Intent classifier folder (or its export); with `faq`, any encoder folder. */
  model: string;
  test: string;
  val?: string;
  /** FAQ mode: rank the FAQ's intents by question similarity instead of classifying. */
  faq?: string;
  threshold?: number;
  oosLabel: string;
  textColumn: string;
  labelColumn: string;
  batchSize: number;
  int8: boolean;
}

export interface IntentReport extends IntentMetrics {
  task: 'intent';
  test: string;
  val: string | null;
  faq: string | null;
  oos_label: string;
  n: number;
  intents: number;
  threshold: number | null;
  threshold_from: 'val' | '--threshold' | null;
  balance: typeof BALANCE;
  balance_score: number | null;
  top3_accuracy: number | null;
  without_threshold: IntentMetrics;
  val_metrics: (IntentMetrics & { n: number; balance_score: number | null }) | null;
  model: { path: string; kind: 'classifier' | 'faq retrieval'; precision: 'fp32' | 'int8' };
}

/** What eval ranks with: a classifier's labels by probability, or an FAQ's intents by similarity. */
interface IntentRanker {
  intents: readonly string[];
  rank(texts: readonly string[]): Promise<IntentPrediction[]>;
  close(): Promise<void>;
}

async function loadRanker(o: IntentEvalOptions): Promise<IntentRanker> {
  if (o.faq !== undefined) {
    // no vector cache: eval writes nothing beside its inputs
    const bot = await FaqBot.load(o.model, o.faq, { int8: o.int8, cache: false });
    if (!bot.index.faq.hasIntent) {
      await bot.close();
      throw new UserError(`${o.faq}: has no intent column: eval --task intent scores the FAQ's intents (columns question, answer, intent)`);
    }
    const fromTopics = (topics: Topic[]) => ({ ranked: topics.map((t) => t.intent!), score: topics[0].score });
    return {
      intents: [...new Set(bot.index.faq.rows.map((r) => r.intent!))],
      rank: async (texts) => (await bot.rank(texts)).map(fromTopics),
      close: () => bot.close(),
    };
  }
  const clf = await Classifier.load(o.model, { int8: o.int8, batchSize: o.batchSize });
  return {
    intents: clf.labels,
    rank: async (texts) => (await clf.predict(texts)).map((p) => {
      const order = byProbability(p);
      return { ranked: order.map((i) => clf.labels[i]), score: p[order[0]] };
    }),
    close: () => clf.close(),
  };
}

/** Every row's label must be an intent the model knows, or the out-of-scope label: else one line naming the row. */
function checkLabels(rows: LabeledRows, intents: readonly string[], oosLabel: string, column: string): void {
  const known = new Set([...intents, oosLabel]);
  rows.labels.forEach((l, i) => {
    if (!known.has(l)) {
      throw atLine(rows.file, rows.lines[i], `intent "${l}" in column "${column}" is neither one of the ${intents.length} intents of the model nor the out-of-scope label "${oosLabel}" (--oos-label)`);
    }
  });
}

async function rankAll(ranker: IntentRanker, texts: readonly string[], batchSize: number, what: string): Promise<IntentPrediction[]> {
  const bar = progress(`eval ${what}`, texts.length, 'texts');
  const out: IntentPrediction[] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    out.push(...(await ranker.rank(texts.slice(i, i + batchSize))));
    bar.update(out.length);
  }
  bar.stop();
  return out;
}

export async function evaluateIntent(o: IntentEvalOptions): Promise<IntentReport> {
  const columns = { textColumn: o.textColumn, labelColumn: o.labelColumn };
  const test = await readLabeledCsv(o.test, columns);
  const val = o.val === undefined ? undefined : await readLabeledCsv(o.val, columns);
  if (val && !val.labels.includes(o.oosLabel)) {
    throw new UserError(`${o.val}: no out-of-scope rows (label "${o.oosLabel}" in column "${o.labelColumn}"): a threshold cannot be chosen without them`);
  }
  if (val && val.labels.every((l) => l === o.oosLabel)) throw new UserError(`${o.val}: only out-of-scope rows: a threshold cannot be chosen without in-scope ones`);
  const ranker = await loadRanker(o);
  try {
    for (const rows of [test, val]) if (rows) checkLabels(rows, ranker.intents, o.oosLabel, o.labelColumn);
    let threshold: number | null = o.threshold ?? null;
    let valMetrics: IntentReport['val_metrics'] = null;
    if (val) {
      const preds = await rankAll(ranker, val.texts, o.batchSize, 'val');
      threshold = bestThreshold(val.labels, preds, o.oosLabel).threshold;
      const m = intentMetrics(val.labels, preds, o.oosLabel, threshold);
      valMetrics = { n: val.labels.length, ...m, balance_score: balance(m) };
    }
    const preds = await rankAll(ranker, test.texts, o.batchSize, 'test');
    const at = intentMetrics(test.labels, preds, o.oosLabel, threshold);
    return {
      task: 'intent',
      test: o.test,
      val: o.val ?? null,
      faq: o.faq ?? null,
      oos_label: o.oosLabel,
      n: test.labels.length,
      intents: ranker.intents.filter((l) => l !== o.oosLabel).length,
      threshold,
      threshold_from: val ? 'val' : o.threshold !== undefined ? '--threshold' : null,
      balance: BALANCE,
      ...at,
      balance_score: balance(at),
      top3_accuracy: topKAccuracy(test.labels, preds, o.oosLabel),
      without_threshold: intentMetrics(test.labels, preds, o.oosLabel, null),
      val_metrics: valMetrics,
      model: { path: o.model, kind: o.faq !== undefined ? 'faq retrieval' : 'classifier', precision: o.int8 ? 'int8' : 'fp32' },
    };
  } finally {
    await ranker.close();
  }
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** The readable summary printed without --json. */
export function formatIntentSummary(r: IntentReport): string {
  const m = `${r.model.path}${r.faq ? ` retrieving from ${r.faq}` : ''} (${r.model.precision})`;
  const t = r.threshold === null ? 'no threshold (argmax only)' : `threshold ${r.threshold.toFixed(4)}${r.threshold_from === 'val' ? ` (best ${BALANCE} on ${r.val})` : ' (--threshold)'}`;
  const lines = [
    `${r.test}: ${r.n} queries (${r.n_in_scope} in scope, ${r.n_oos} out of scope "${r.oos_label}"), ${r.intents} intents; model ${m}`,
    `  ${t}`,
    `  in-scope accuracy      ${pct(r.in_scope_accuracy)}   (argmax only ${pct(r.without_threshold.in_scope_accuracy)}; top-3 ${pct(r.top3_accuracy)})`,
    `  out-of-scope recall    ${pct(r.oos_recall)}   (argmax only ${pct(r.without_threshold.oos_recall)})`,
    `  out-of-scope precision ${pct(r.oos_precision)}   (${r.predicted_oos} predicted out of scope)`,
  ];
  if (r.val_metrics) lines.push(`  on ${r.val}: in-scope accuracy ${pct(r.val_metrics.in_scope_accuracy)}, out-of-scope recall ${pct(r.val_metrics.oos_recall)}`);
  return `${lines.join('\n')}\n`;
}
