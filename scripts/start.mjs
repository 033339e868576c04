#!/usr/bin/env node
// `npm start`: the main job on the bundled data. It runs every stage of dvc.yaml with the pipeline runner
// (src/pipeline/run-dvc.ts; stages already up to date are skipped, `npm start -- --force` reruns them all), then
// prints what came out: the teacher's validation perplexity falling, the distillation report, the export checks
// and fill-mask answers of the shipped compactlm-mini next to the demo's minutes-old int8 student, then the sentiment
// classifiers (fine-tuned teacher, distilled student) on the test split next to the baselines. Outputs: runs/.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runner = join(root, 'dist/pipeline/run-dvc.js');
if (!existsSync(runner)) {
  console.error('npm start: the CLI is not built; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}

const started = Date.now();
const run = spawnSync(process.execPath, [runner, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

const read = (file) => (existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : null);
const json = (file) => {
  const text = read(file);
  return text === null ? null : JSON.parse(text);
};
const fmt = (x, digits = 3) => (typeof x === 'number' ? x.toFixed(digits) : String(x));

console.log('\n=== CompactLM demo results ===');
const metrics = read('runs/models/teacher/metrics.jsonl');
if (metrics) {
  const evals = metrics.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'val_ppl' in r);
  console.log('Teacher (pretrain) validation perplexity by step (an untrained model: 30,522):');
  for (const r of evals) console.log(`  step ${String(r.step).padStart(5)}  ppl ${fmt(r.val_ppl, 1).padStart(9)}  masked-token acc ${(100 * r.val_mlm_acc).toFixed(1)}%`);
}
const report = json('runs/models/student/distill_report.json');
if (report) {
  console.log('Distillation (runs/models/student/distill_report.json):');
  console.log(`  parameters: teacher ${report.teacher_params.toLocaleString('en-US')}, student ${report.student_params.toLocaleString('en-US')} (ratio ${fmt(report.param_ratio)})`);
  for (const who of ['teacher', 'student']) {
    const m = report[who];
    if (m && typeof m === 'object') console.log(`  ${who}: val loss ${fmt(m.val_loss)}, ppl ${fmt(m.val_ppl, 1)}, masked-token acc ${fmt(100 * m.val_mlm_acc, 1)}%`);
  }
  if ('retained_accuracy' in report) console.log(`  the student keeps ${fmt(100 * report.retained_accuracy, 1)}% of the teacher's masked-token accuracy`);
}
const exp = json('runs/export/student/export.json');
if (exp) {
  const size = (path) => exp.files.find((f) => f.path === path)?.bytes / 1e6;
  const v = exp.verification;
  console.log(`Export (runs/export/student): onnx/model.onnx ${fmt(size('onnx/model.onnx'), 1)} MB, ` +
    `onnx/model_quantized.onnx ${fmt(size('onnx/model_quantized.onnx'), 1)} MB (${fmt(100 * exp.sizeRatio, 1)}%)`);
  console.log(`  fp32 max |Δlogit| vs the training graph ${v.fp32MaxAbsDiff.toExponential(1)}; ` +
    `int8 top-1 agreement with fp32 ${fmt(100 * v.int8.top1Agreement, 2)}% on ${v.int8.maskedTokens} masked tokens`);
}
const fillMask = (file, title) => {
  const answers = read(file);
  if (!answers) return;
  console.log(title);
  for (const line of answers.trim().split('\n')) {
    const r = JSON.parse(line);
    const guesses = r.masks.map((m) => m.predictions.map((p) => `${p.token} ${fmt(p.score, 2)}`).join(', '));
    console.log(`  ${r.text}\n    → ${guesses.join(' | ')}`);
  }
};
fillMask('runs/reports/fill-mask-mini.jsonl', 'Fill-mask with the shipped models/compactlm-mini (pretrained for hours on the 100 MB corpus):');
fillMask('runs/reports/fill-mask.jsonl', 'Fill-mask with the demo\'s exported int8 student (trained minutes ago on 3 MB: an example of the pipeline, not a model to use):');
const evals = [['teacher', json('runs/reports/eval-teacher.json')], ['student', json('runs/reports/eval-student.json')]].filter(([, r]) => r);
if (evals.length) {
  const pct = (x) => `${fmt(100 * x, 1)}%`;
  console.log(`Sentiment classifiers on the held-out test split (${evals[0][1].n} UCI sentences; runs/reports/eval-*.html):`);
  console.log(`  ${'model'.padEnd(38)}  accuracy   macro-F1   parameters`);
  const row = (name, m, params = '') => console.log(`  ${name.padEnd(38)}  ${pct(m.accuracy).padStart(8)}   ${fmt(m.macro_f1).padStart(8)}   ${params}`);
  for (const [who, r] of evals) row(`${who} (${who === 'teacher' ? 'compactlm-mini, fine-tuned' : 'compactlm-tiny, distilled'})`, r, r.model.parameters.toLocaleString('en-US'));
  const base = evals[0][1].baselines;
  row('majority label', base.majority);
  if (base.bow_logreg) row('bag-of-words logistic regr.', base.bow_logreg);
}
const task = json('runs/models/sentiment-student/distill_report.json');
if (task) {
  console.log(`  task distillation: the student has ${fmt(100 * task.param_ratio, 1)}% of the teacher's parameters and keeps ` +
    `${fmt(100 * task.retained_accuracy, 1)}% of its validation accuracy (${fmt(100 * task.retained_macro_f1, 1)}% of its macro-F1)`);
}
const examples = read('runs/reports/classify-examples.jsonl');
if (examples) {
  console.log('The int8 student classifies (runs/export/sentiment-student, label 1 = positive):');
  for (const line of examples.trim().split('\n')) {
    const r = JSON.parse(line);
    console.log(`  ${r.label} (${fmt(r.score, 3)})  ${r.text}`);
  }
}
const speeches = read('runs/summaries/sotu.csv');
if (speeches) {
  const rows = parseCsv(speeches, { columns: true });
  const speech = rows.find((r) => r.year === '1941') ?? rows[0];
  const words = speech.text.split(/\s+/).length.toLocaleString('en-US');
  console.log(`Extractive summary of the ${speech.year} State of the Union address (${speech.president}, ${words} words; runs/summaries/sotu.csv):`);
  for (const method of ['centroid', 'lead']) {
    console.log(`  ${method === 'centroid' ? 'centroid (closest to the whole speech, MMR against repeats)' : 'lead (the first sentences)'}:`);
    for (const sentence of speech[method].split('\n')) console.log(`    · ${sentence}`);
  }
}
const chatDemo = read('runs/chat/demo.jsonl');
if (chatDemo) {
  const faqEval = json('runs/chat/faq-eval.json');
  console.log('The FAQ chat bot (compactlm-mini, datasets/shop-faq.csv; score = cosine similarity to the FAQ question; runs/chat/demo.jsonl):');
  const turns = read('pipelines/chat-demo.jsonl').trim().split('\n').map((l) => JSON.parse(l).message);
  chatDemo.trim().split('\n').forEach((line, i) => {
    const a = JSON.parse(line);
    console.log(`  you> ${turns[i]}`);
    console.log(`  bot> ${a.answer}`);
    console.log(`       (${a.fallback ? 'fallback; closest' : 'answered from'} FAQ row ${a.source.row} "${a.source.question}", score ${fmt(a.score)})`);
  });
  if (faqEval) {
    console.log(`  on ${faqEval.n_in_scope} held-out paraphrases: top-1 ${fmt(100 * faqEval.without_threshold.in_scope_accuracy, 1)}%, top-3 ${fmt(100 * faqEval.top3_accuracy, 1)}%; ` +
      `at threshold ${faqEval.threshold} ${fmt(100 * faqEval.in_scope_accuracy, 1)}% answered right and ${fmt(100 * faqEval.oos_recall, 1)}% of ${faqEval.n_oos} off-topic messages handed back`);
  }
}
console.log(`\nDone in ${((Date.now() - started) / 60000).toFixed(1)} min. Bias report: runs/reports/bias.html; all outputs under runs/.`);
