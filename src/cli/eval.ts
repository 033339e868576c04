import type { Command } from 'commander';
import { checkOutputFile } from '../data/csv.js';
import { evaluateClassification, type ClassificationReport, type ClassifyEvalOptions } from '../eval/classification-report.js';
import { evaluateMaskedLmFolder } from '../eval/masked-lm.js';
import { evaluateSummarization, formatSummarizeSummary, type SummarizeEvalOptions } from '../eval/summarize-report.js';
import { evaluateIntent, formatIntentSummary, type IntentEvalOptions } from '../eval/intent-report.js';
import { DEFAULT_OOS_LABEL } from '../chat/intent-bot.js';
import { classificationHtml } from '../eval/report-html.js';
import { loadTextClassifier } from '../infer/classifier.js';
import { DEFAULT_SUMMARY_SENTENCES, SUMMARY_METHODS, type SummaryMethod } from '../summarize/summarizer.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { choice, example, float, frozen, given, globals, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';
import { MAX_SEQ_LEN, MIN_SEQ_LEN } from './training-options.js';

const TASKS = ['classify', 'mlm', 'intent', 'summarize'] as const;
type Task = (typeof TASKS)[number];

/** Commander's flags, before the checks: the library's fields as given, plus those the settings are made from. */
type EvalFlags = Pick<ClassifyEvalOptions, 'model' | 'test' | 'textColumn' | 'labelColumn' | 'pairColumn' | 'train' | 'maxLength' | 'batchSize' | 'int8'>
  & Outputs & { task: Task; protected?: string; privileged?: string; favorable?: string; seqLen: number }
  & { val?: string; faq?: string; threshold?: number; oosLabel: string }
  & { referenceColumn: string; stem: boolean; method?: SummaryMethod; sentences?: number };

interface Outputs {
  json: boolean;
  report?: string;
  html?: string;
}

/** The library's options (classification-report.ts) plus where the report goes. */
export interface ClassifyEvalSettings extends ClassifyEvalOptions, Outputs {
  task: 'classify';
}

export interface MlmEvalSettings extends Outputs {
  task: 'mlm';
  model: string;
  test: string;
  textColumn: string;
  seqLen: number;
  batchSize: number;
  seed: number;
}

/** --task intent: the library's options (intent-report.ts) plus where the report goes. */
export interface IntentEvalSettings extends IntentEvalOptions, Outputs {
  task: 'intent';
}

/** --task summarize: the library's options (summarize-report.ts) plus where the report goes. */
export interface SummarizeEvalSettings extends Omit<SummarizeEvalOptions, 'onDocument'>, Outputs {
  task: 'summarize';
}

export type EvalSettings = ClassifyEvalSettings | MlmEvalSettings | IntentEvalSettings | SummarizeEvalSettings;

/** Flags that only one task reads: giving one to the other task is a usage error, not a silent no-op. */
const CLASSIFY_ONLY: [key: keyof EvalFlags, flag: string][] = [
  ['labelColumn', '--label-column'], ['pairColumn', '--pair-column'], ['train', '--train'], ['protected', '--protected'],
  ['privileged', '--privileged'], ['favorable', '--favorable'], ['maxLength', '--max-length'], ['int8', '--int8'], ['html', '--html'],
];
const MLM_ONLY: [key: keyof EvalFlags, flag: string][] = [['seqLen', '--seq-len']];
const INTENT_ONLY: [key: keyof EvalFlags, flag: string][] = [['val', '--val'], ['faq', '--faq'], ['threshold', '--threshold'], ['oosLabel', '--oos-label']];
/** The classify flags that --task intent reads too. */
const INTENT_READS: (keyof EvalFlags)[] = ['labelColumn', 'int8'];
const SUMMARIZE_ONLY: [key: keyof EvalFlags, flag: string][] = [
  ['referenceColumn', '--reference-column'], ['stem', '--stem'], ['method', '--method'], ['sentences', '--sentences'],
];
/** The classify flags that --task summarize reads too. */
const SUMMARIZE_READS: (keyof EvalFlags)[] = ['int8'];

/** The checked, frozen settings `eval` runs with. */
export function evalSettings(o: EvalFlags, command: Command, seed: number): Readonly<EvalSettings> {
  if (o.task === 'summarize') return summarizeEvalSettings(o, command, seed);
  for (const [key, flag] of SUMMARIZE_ONLY) if (given(command, key)) throw usageError(`${flag} is for --task summarize, not --task ${o.task}`);
  if (o.task === 'intent') return intentEvalSettings(o, command);
  for (const [key, flag] of INTENT_ONLY) if (given(command, key)) throw usageError(`${flag} is for --task intent, not --task ${o.task}`);
  const wrongTask = o.task === 'mlm' ? CLASSIFY_ONLY : MLM_ONLY;
  for (const [key, flag] of wrongTask) {
    if (given(command, key)) throw usageError(`${flag} is for --task ${o.task === 'mlm' ? 'classify' : 'mlm'}, not --task ${o.task}`);
  }
  if (o.report !== undefined && o.report === o.html) throw usageError(`--report and --html are the same file ${o.report}: give each output its own file`);
  const outputs = [['--report', o.report], ['--html', o.html]].filter((x): x is [string, string] => x[1] !== undefined);
  const inputs = [{ what: '--model', path: o.model }, { what: '--test', path: o.test }, ...(o.train !== undefined ? [{ what: '--train', path: o.train }] : [])];
  refuseOverwritingInputs(outputs.map(([what, path]) => ({ what, path })), inputs);
  const out: Outputs = { json: o.json, ...(o.report !== undefined ? { report: o.report } : {}), ...(o.html !== undefined ? { html: o.html } : {}) };
  const common = { model: o.model, test: o.test, textColumn: o.textColumn, batchSize: o.batchSize, seed };
  if (o.task === 'mlm') return frozen({ task: 'mlm', ...common, seqLen: o.seqLen, ...out });

  if (o.protected !== undefined && o.favorable === undefined) throw usageError('--protected needs --favorable <label> (the label that is the favorable outcome)');
  for (const [key, flag] of [['favorable', '--favorable'], ['privileged', '--privileged']] as const) {
    if (o[key] !== undefined && o.protected === undefined) throw usageError(`${flag} goes with --protected <col> (the bias metrics)`);
  }
  const bias = o.protected === undefined ? undefined
    : { protected: o.protected, favorable: o.favorable!, ...(o.privileged !== undefined ? { privileged: o.privileged } : {}) };
  return frozen({
    task: 'classify',
    ...common,
    labelColumn: o.labelColumn,
    ...(o.pairColumn !== undefined ? { pairColumn: o.pairColumn } : {}),
    ...(o.train !== undefined ? { train: o.train } : {}),
    ...(bias ? { bias: frozen(bias) } : {}),
    maxLength: o.maxLength,
    int8: o.int8,
    ...out,
  });
}

/** --task summarize's settings: its own flags, and of the other tasks' only those it reads. */
function summarizeEvalSettings(o: EvalFlags, command: Command, seed: number): Readonly<SummarizeEvalSettings> {
  for (const [key, flag] of [...CLASSIFY_ONLY, ...MLM_ONLY, ...INTENT_ONLY]) {
    if (!SUMMARIZE_READS.includes(key) && given(command, key)) throw usageError(`${flag} is not a flag of --task summarize`);
  }
  if (o.report !== undefined) refuseOverwritingInputs([{ what: '--report', path: o.report }], [{ what: '--model', path: o.model }, { what: '--test', path: o.test }]);
  return frozen({
    task: 'summarize',
    model: o.model,
    test: o.test,
    textColumn: o.textColumn,
    referenceColumn: o.referenceColumn,
    stem: o.stem,
    ...(o.method !== undefined ? { method: o.method } : {}),
    sentences: o.sentences ?? DEFAULT_SUMMARY_SENTENCES,
    seed,
    batchSize: o.batchSize,
    int8: o.int8,
    json: o.json,
    ...(o.report !== undefined ? { report: o.report } : {}),
  });
}

/** --task intent's settings: its own flags, and of classify's only those it reads. */
function intentEvalSettings(o: EvalFlags, command: Command): Readonly<IntentEvalSettings> {
  for (const [key, flag] of [...CLASSIFY_ONLY, ...MLM_ONLY]) {
    if (!INTENT_READS.includes(key) && given(command, key)) throw usageError(`${flag} is not a flag of --task intent`);
  }
  if (o.val !== undefined && o.threshold !== undefined) throw usageError('give --val (the threshold is chosen there) or --threshold, not both');
  const inputs = [['--model', o.model], ['--test', o.test], ['--val', o.val], ['--faq', o.faq]].filter((x): x is [string, string] => x[1] !== undefined);
  if (o.report !== undefined) refuseOverwritingInputs([{ what: '--report', path: o.report }], inputs.map(([what, path]) => ({ what, path })));
  return frozen({
    task: 'intent',
    model: o.model,
    test: o.test,
    ...(o.val !== undefined ? { val: o.val } : {}),
    ...(o.faq !== undefined ? { faq: o.faq } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    oosLabel: o.oosLabel,
    textColumn: o.textColumn,
    labelColumn: given(command, 'labelColumn') ? o.labelColumn : 'intent',
    batchSize: o.batchSize,
    int8: o.int8,
    json: o.json,
    ...(o.report !== undefined ? { report: o.report } : {}),
  });
}

/**
 * `compactlm eval`: quality of a model on a test CSV (library: src/eval/). --task classify (default) scores a
 * fine-tuned sequence classifier; --task mlm a masked LM (loss, perplexity, masked-token accuracy). The report's
 * keys are listed in classification-report.ts; `latency_ms` is {fp32?: {p50, p95}, int8?: {p50, p95}}, one entry
 * per precision measured (both for an export folder with onnx/model.onnx and onnx/model_quantized.onnx).
 */
export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('Evaluate a model on a test CSV: a classifier (accuracy with a bootstrap 95% interval, macro F1, per-class ' +
      'precision/recall/F1, confusion matrix, calibration (ECE), baselines, robustness to typos and synonyms, bias, latency) ' +
      'or a masked LM (--task mlm: loss, perplexity, masked-token accuracy), or intent detection with out-of-scope queries (--task intent: ' +
      'in-scope accuracy, out-of-scope recall and precision, the threshold). A summary on stdout (--json: the report as JSON).')
    .option('--task <name>', `${TASKS.join(' | ')}`, choice(TASKS), 'classify')
    .requiredOption('--model <dir>', 'classify, intent: a fine-tuned model folder or its export folder (intent with --faq: any encoder); mlm: a model folder', nonEmpty)
    .requiredOption('--test <csv>', 'test CSV: a text column (and for classify a label column)', nonEmpty)
    .option('--text-column <col>', 'column with the text', nonEmpty, 'text')
    .option('--label-column <col>', 'classify: column with the true label (one of the model\'s labels)', nonEmpty, 'label')
    .option('--pair-column <col>', 'classify: column with the second text of a pair (e.g. NLI hypothesis)', nonEmpty)
    .option('--train <csv>', 'classify: training CSV (same columns): majority label and the TF-IDF + logistic-regression baseline', nonEmpty)
    .option('--protected <col>', 'classify: protected-attribute column: adds bias-report\'s metrics on the predictions', nonEmpty)
    .option('--favorable <label>', 'classify, with --protected: the label that is the favorable outcome')
    .option('--privileged <value>', 'classify, with --protected: the privileged group (default: the most frequent value)')
    .option('--max-length <n>', `classify: tokens per text, [CLS] and [SEP] included (3–${MODEL_MAX_LENGTH})`, int(3, MODEL_MAX_LENGTH), 128)
    .option('--seq-len <n>', `mlm: tokens per packed block (${MIN_SEQ_LEN}–${MAX_SEQ_LEN})`, int(MIN_SEQ_LEN, MAX_SEQ_LEN), 128)
    .option('--batch-size <n>', 'texts (mlm: blocks) per run', int(1, 4096), 32)
    .option('--int8', 'classify, export folders: evaluate onnx/model_quantized.onnx', false)
    .option('--seed <n>', 'random seed of the bootstrap, perturbations and masking (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .option('--json', 'print the report as JSON on stdout (instead of the readable summary)', false)
    .option('--report <file>', 'write the JSON report to this file', nonEmpty)
    .option('--html <file>', 'classify: write a self-contained HTML report (confusion matrix, per-class chart, reliability diagram)', nonEmpty)
    .option('--oos-label <label>', 'intent: the out-of-scope label in the label column (Larson et al. 2019, CLINC150)', nonEmpty, DEFAULT_OOS_LABEL)
    .option('--val <csv>', 'intent: validation CSV (same columns, with out-of-scope rows): choose the threshold there, apply it to --test', nonEmpty)
    .option('--threshold <x>', 'intent: predicted out-of-scope below this score (instead of choosing it on --val)', float(-1, 1))
    .option('--faq <csv>', 'intent: score retrieval from this FAQ (question, answer, intent) with --model as the encoder, not a classifier', nonEmpty)
    .option('--reference-column <col>', 'summarize: column with the reference summary (sentences on separate lines, as ROUGE-Lsum reads them)', nonEmpty, 'summary')
    .option('--stem', 'summarize: Porter-stem tokens before matching (rouge_score\'s use_stemmer; the papers\' ROUGE-1.5.5 -m)', false)
    .option('--method <name>', `summarize: ${SUMMARY_METHODS.join(' | ')}, scored next to lead (default: the folder's, centroid or trained)`, choice(SUMMARY_METHODS))
    .option('--sentences <n>', `summarize: sentences per summary (default ${DEFAULT_SUMMARY_SENTENCES})`, int(1, 1_000_000))
    .addHelpText('after', `
Report (--json, --report), classify: task, test, train, n, labels, accuracy, accuracy_ci95 [lo, hi] (percentile
bootstrap, 1000 resamples, --seed), macro_f1, per_class {label: {precision, recall, f1, support}},
confusion_matrix {labels, matrix} (rows true, columns predicted), ece (15 bins), baselines {majority, bow_logreg
(with --train)}: {accuracy, macro_f1}, robustness {typos, synonyms}: {accuracy}, bias (with --protected),
latency_ms {fp32?, int8?}: {p50, p95} (one text per run; both for an export with both ONNX files), model {path,
precision, parameters, files}, seed. Metric definitions are scikit-learn's (zero_division=0).
mlm: task, test, n (masked tokens scored), loss, perplexity, masked_token_accuracy, blocks, seq_len, model, seed.
intent (--label-column defaults to intent): task, test, val, faq, oos_label, n, n_in_scope, n_oos, intents,
threshold, threshold_from (val | --threshold | null), in_scope_accuracy, oos_recall, oos_precision, predicted_oos,
balance, balance_score, top3_accuracy, without_threshold {…}, val_metrics {…}, model {path, kind, precision};
definitions in src/eval/intent-report.ts (a score below the threshold counts as predicted out-of-scope).
summarize: task, test, text_column, reference_column, n, method, sentences, stem, rouge {<method>, lead}: {rouge1,
rouge2, rougeL, rougeLsum}: {f1, f1_ci95 [lo, hi], precision, recall} (fractions; means over the documents, rouge_score's
definitions; published CNN/DM "ROUGE-L" is rougeLsum), lengths, model {path, precision}, seed.`)
    .action(async (flags: EvalFlags, command: Command) => runEval(evalSettings(flags, command, globals(command).seed)));
  example(cmd,
    'compactlm eval --model runs/sentiment --test data/test.csv --text-column text --label-column label --train data/train.csv --html eval.html',
    'compactlm eval --model runs/sentiment-export --int8 --test data/test.csv --protected gender --favorable positive --json > eval.json',
    'compactlm eval --task mlm --model models/compactlm-mini --test data/val.csv --text-column text --seq-len 128',
    'compactlm eval --task intent --model runs/intents --test test.csv --val val.csv --oos-label oos --json',
    'compactlm eval --task summarize --model models/compactlm-mini --test test.csv --text-column article --reference-column summary --stem',
    'compactlm eval --task intent --model models/compactlm-mini --faq datasets/shop-faq.csv --test datasets/shop-faq-paraphrases.csv --text-column question --threshold 0.7');
}

async function runEval(s: Readonly<EvalSettings>): Promise<void> {
  for (const out of [s.report, s.html]) if (out !== undefined) await checkOutputFile(out);
  let report: object;
  let summary: string;
  let html: string | undefined;
  if (s.task === 'summarize') {
    const r = await evaluateSummarization(s);
    report = r;
    summary = formatSummarizeSummary(r);
  } else if (s.task === 'intent') {
    const r = await evaluateIntent(s);
    report = r;
    summary = formatIntentSummary(r);
  } else if (s.task === 'mlm') {
    const m = await evaluateMaskedLmFolder(s.model, s.test, { seqLen: s.seqLen, batchSize: s.batchSize, seed: s.seed, textColumn: s.textColumn });
    const r = { task: 'mlm', test: s.test, n: m.tokens, loss: m.val_loss, perplexity: m.val_ppl, masked_token_accuracy: m.val_mlm_acc,
      blocks: m.blocks, seq_len: m.seq_len, model: { path: s.model }, seed: s.seed } as const;
    report = r;
    summary = `${s.test}: ${r.blocks} blocks of ${r.seq_len} tokens, ${r.n} masked tokens scored (seed ${r.seed}); model ${s.model}\n` +
      `  loss                   ${r.loss.toFixed(4)}\n  perplexity             ${r.perplexity.toFixed(2)}\n` +
      `  masked-token accuracy  ${r.masked_token_accuracy.toFixed(4)}\n`;
  } else {
    const { report: r, reliability } = await evaluateClassification(s, loadTextClassifier);
    report = r;
    summary = formatClassificationSummary(r);
    if (s.html !== undefined) html = await classificationHtml(r, reliability);
  }
  // everything is computed before the first file is written, so a failure leaves no partial set of outputs
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (s.report !== undefined) await writeFileAtomic(s.report, json);
  if (s.html !== undefined) await writeFileAtomic(s.html, html!);
  const files = [s.report && `report ${s.report}`, s.html && `HTML ${s.html}`].filter(Boolean);
  process.stdout.write(s.json ? json : `${summary}${files.length ? `  wrote ${files.join(', ')}\n` : ''}`);
}

/** Classes listed in the readable summary (the report has them all). */
const SUMMARY_CLASSES = 20;

const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

/** The readable summary printed without --json: headline numbers, then a per-class table. */
export function formatClassificationSummary(r: ClassificationReport): string {
  const b = r.baselines;
  const lines = [
    `${r.test}: ${r.n} rows, ${r.labels.length} labels; model ${r.model.path} (${r.model.precision}, ${r.model.parameters.toLocaleString('en-US')} parameters); seed ${r.seed}`,
    `  accuracy        ${num(r.accuracy)}  (95% CI ${num(r.accuracy_ci95[0])}–${num(r.accuracy_ci95[1])})`,
    `  macro F1        ${num(r.macro_f1)}`,
    `  ECE (15 bins)   ${num(r.ece)}`,
    `  baselines       majority ${num(b.majority.accuracy)} acc, ${num(b.majority.macro_f1)} F1` +
      (b.bow_logreg ? `; TF-IDF + logreg ${num(b.bow_logreg.accuracy)} acc, ${num(b.bow_logreg.macro_f1)} F1` : ' (--train adds TF-IDF + logreg)'),
    `  robustness      typos ${num(r.robustness.typos.accuracy)} acc; synonyms ${num(r.robustness.synonyms.accuracy)} acc`,
    `  latency         ${Object.entries(r.latency_ms).map(([p, l]) => `${p} p50 ${l.p50.toFixed(2)} ms, p95 ${l.p95.toFixed(2)} ms`).join('; ')} (one text)`,
  ];
  if (r.bias) {
    lines.push(`  bias            ${r.bias.protected} (privileged ${JSON.stringify(r.bias.privileged)}, favorable ${JSON.stringify(r.bias.favorable)}): ` +
      `equal opportunity diff ${num(r.bias.equal_opportunity_difference)}, average odds diff ${num(r.bias.average_odds_difference)}`);
  }
  const classes = Object.entries(r.per_class);
  const rows = [['class', 'precision', 'recall', 'f1', 'support'],
    ...classes.slice(0, SUMMARY_CLASSES).map(([label, m]) => [label === '' ? '(empty)' : label, num(m.precision), num(m.recall), num(m.f1), String(m.support)])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((x) => x[c].length)));
  for (const x of rows) lines.push(`  ${x.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`);
  if (classes.length > SUMMARY_CLASSES) lines.push(`  … ${classes.length - SUMMARY_CLASSES} more classes (see --json or --report)`);
  return `${lines.join('\n')}\n`;
}
