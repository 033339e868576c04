import type { Command } from 'commander';
import { checkOutputFile } from '../data/csv.js';
import { evaluateClassification, type ClassificationReport, type ClassifyEvalOptions } from '../eval/classification-report.js';
import { evaluateMaskedLmFolder } from '../eval/masked-lm.js';
import { classificationHtml } from '../eval/report-html.js';
import { loadTextClassifier } from '../infer/classifier.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { writeFileAtomic } from '../util/atomic.js';
import { choice, example, frozen, given, globals, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';
import { MAX_SEQ_LEN, MIN_SEQ_LEN } from './training-options.js';

const TASKS = ['classify', 'mlm'] as const;
type Task = (typeof TASKS)[number];

/** Commander's flags, before the checks: the library's fields as given, plus those the settings are made from. */
type EvalFlags = Pick<ClassifyEvalOptions, 'model' | 'test' | 'textColumn' | 'labelColumn' | 'pairColumn' | 'train' | 'maxLength' | 'batchSize' | 'int8'>
  & Outputs & { task: Task; protected?: string; privileged?: string; favorable?: string; seqLen: number };

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

export type EvalSettings = ClassifyEvalSettings | MlmEvalSettings;

/** Flags that only one task reads: giving one to the other task is a usage error, not a silent no-op. */
const CLASSIFY_ONLY: [key: keyof EvalFlags, flag: string][] = [
  ['labelColumn', '--label-column'], ['pairColumn', '--pair-column'], ['train', '--train'], ['protected', '--protected'],
  ['privileged', '--privileged'], ['favorable', '--favorable'], ['maxLength', '--max-length'], ['int8', '--int8'], ['html', '--html'],
];
const MLM_ONLY: [key: keyof EvalFlags, flag: string][] = [['seqLen', '--seq-len']];

/** The checked, frozen settings `eval` runs with. */
export function evalSettings(o: EvalFlags, command: Command, seed: number): Readonly<EvalSettings> {
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
      'or a masked LM (--task mlm: loss, perplexity, masked-token accuracy). A summary on stdout (--json: the report as JSON).')
    .option('--task <name>', `${TASKS.join(' | ')}`, choice(TASKS), 'classify')
    .requiredOption('--model <dir>', 'classify: a fine-tuned model folder or its export folder; mlm: a model folder', nonEmpty)
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
    .addHelpText('after', `
Report (--json, --report), classify: task, test, train, n, labels, accuracy, accuracy_ci95 [lo, hi] (percentile
bootstrap, 1000 resamples, --seed), macro_f1, per_class {label: {precision, recall, f1, support}},
confusion_matrix {labels, matrix} (rows true, columns predicted), ece (15 bins), baselines {majority, bow_logreg
(with --train)}: {accuracy, macro_f1}, robustness {typos, synonyms}: {accuracy}, bias (with --protected),
latency_ms {fp32?, int8?}: {p50, p95} (one text per run; both for an export with both ONNX files), model {path,
precision, parameters, files}, seed. Metric definitions are scikit-learn's (zero_division=0).
mlm: task, test, n (masked tokens scored), loss, perplexity, masked_token_accuracy, blocks, seq_len, model, seed.`)
    .action(async (flags: EvalFlags, command: Command) => runEval(evalSettings(flags, command, globals(command).seed)));
  example(cmd,
    'compactlm eval --model runs/sentiment --test data/test.csv --text-column text --label-column label --train data/train.csv --html eval.html',
    'compactlm eval --model runs/sentiment-export --int8 --test data/test.csv --protected gender --favorable positive --json > eval.json',
    'compactlm eval --task mlm --model models/compactlm-mini --test data/val.csv --text-column text --seq-len 128');
}

async function runEval(s: Readonly<EvalSettings>): Promise<void> {
  for (const out of [s.report, s.html]) if (out !== undefined) await checkOutputFile(out);
  let report: object;
  let summary: string;
  let html: string | undefined;
  if (s.task === 'mlm') {
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
