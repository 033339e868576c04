#!/usr/bin/env node
// Task benchmarks of the issue "Fine-tuning, task distillation and `compactlm eval`", each through the real CLI:
//
//   sentiment    the bundled UCI sentences (split 70/15/15, stratified, seed 42): compactlm-mini fine-tuned as in
//                params.yaml, `eval` on the test split next to the majority and TF-IDF logistic-regression baselines
//                (goal: ≥ 3 points of accuracy over bag-of-words)
//   distill      that teacher distilled into a compactlm-tiny student (goal: ≤ 40% of the parameters, ≥ 95% of the
//                accuracy); the 10%-parameter point needs a fine-tuned small/medium teacher, and CompactLM ships no
//                pretrained small/medium encoder: reported as skipped
//   int8         the student's and the teacher's exports: label agreement int8 vs fp32 on the test split (goal
//                ≥ 99%), p50 latency of one test sentence int8 / fp32 (goal ≤ 0.5)
//   speed        fine-tuning examples/s of mini at max length 128, batch 32 (rows of 128 tokens), with the PyTorch
//                peer (transformers BertForSequenceClassification, same sizes, 2 threads) in the same run
//   spam         the second bundled task, datasets/spam.csv (split 70/15/15, stratified): compactlm-tiny fine-tuned,
//                next to the same baselines
//   clinc150     in-scope accuracy of a classifier fine-tuned on ../shared/data/intent/clinc150 (skipped with a
//                line where that folder is absent)
//
//   npm run bench -- task          env: BENCH_TASKS=sentiment,distill,int8,speed,spam,clinc150  BENCH_THREADS=2
//                                       BENCH_CLINC_MODEL=models/compactlm-mini BENCH_CLINC_EPOCHS=5
// Prints one JSON line per task ({"bench":"task","task":...}); work files under runs/bench/task/ (git-ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import YAML from 'yaml';
import { peerPython } from './lib/peer-python.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const work = join(root, 'runs/bench/task');
const threads = process.env.BENCH_THREADS ?? '2';
const tasks = (process.env.BENCH_TASKS ?? 'sentiment,distill,int8,speed,spam,clinc150').split(',');
const shared = join(root, '..', 'shared', 'data');
const env = { ...process.env, CI: '1' };

const out = (o) => console.log(JSON.stringify({ bench: 'task', ...o }));
function compactlm(args, input) {
  const r = spawnSync(process.execPath, [cli, ...args.map(String)], { cwd: root, encoding: 'utf8', env, input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout;
}
const lastJson = (s) => JSON.parse(s.trim().split('\n').pop());
const params = YAML.parse(readFileSync(join(root, 'params.yaml'), 'utf8'));
const ft = params.finetune;
const dt = params.distill_task;

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const data = join(work, 'sentiment');
compactlm(['split', 'datasets/sentiment.csv', '--out', data, '--ratios', params.split_sentiment.ratios, '--stratify', 'label', '--seed', params.split_sentiment.seed]);
const teacher = join(work, 'teacher');
const student = join(work, 'student');
const splitArgs = ['--train', join(data, 'train.csv'), '--val', join(data, 'val.csv'), '--label-column', 'label', '--threads', threads];

if (tasks.includes('sentiment') || tasks.includes('distill') || tasks.includes('int8')) {
  const s = lastJson(compactlm(['finetune', '--model', ft.model, ...splitArgs, '--out', teacher, '--epochs', ft.epochs, '--batch-size', ft.batch_size,
    '--max-length', ft.max_length, '--lr', ft.lr, '--warmup', ft.warmup, '--dropout', ft.dropout, '--seed', ft.seed, '--json']));
  const e = JSON.parse(compactlm(['eval', '--model', teacher, '--test', join(data, 'test.csv'), '--train', join(data, 'train.csv'), '--label-column', 'label', '--json']));
  const bow = e.baselines.bow_logreg;
  out({
    task: 'sentiment', model: `${ft.model}, fine-tuned`, n: e.n, accuracy: e.accuracy, accuracy_ci95: e.accuracy_ci95, macro_f1: e.macro_f1,
    majority: e.baselines.majority, bow_logreg: bow, gain_over_bow_points: 100 * (e.accuracy - bow.accuracy),
    goal_met: e.accuracy - bow.accuracy >= 0.03, epochs: Number(ft.epochs), fine_tune_seconds: s.seconds,
  });
}
if (tasks.includes('distill') || tasks.includes('int8')) {
  compactlm(['distill', '--task', 'classify', '--teacher', teacher, '--student-init', dt.student_init, ...splitArgs, '--out', student,
    '--epochs', dt.epochs, '--batch-size', dt.batch_size, '--max-length', dt.max_length, '--lr', dt.lr, '--warmup', dt.warmup,
    '--dropout', dt.dropout, '--temperature', dt.temperature, '--alpha', dt.alpha, '--seed', dt.seed]);
  const r = JSON.parse(readFileSync(join(student, 'distill_report.json'), 'utf8'));
  const test = (dir) => JSON.parse(compactlm(['eval', '--model', dir, '--test', join(data, 'test.csv'), '--label-column', 'label', '--json']));
  const [te, se] = [test(teacher), test(student)];
  out({
    task: 'distill', teacher_params: r.teacher_params, student_params: r.student_params, param_ratio: r.param_ratio,
    val: { teacher: r.teacher, student: r.student, retained_accuracy: r.retained_accuracy, retained_macro_f1: r.retained_macro_f1 },
    test: { teacher_accuracy: te.accuracy, student_accuracy: se.accuracy, retained_accuracy: se.accuracy / te.accuracy, teacher_macro_f1: te.macro_f1, student_macro_f1: se.macro_f1 },
    goal_met: r.param_ratio <= 0.4 && se.accuracy / te.accuracy >= 0.95,
    ten_percent_point: 'skipped: CompactLM ships no pretrained small/medium encoder to fine-tune as a teacher 10x the size of tiny',
  });
}
if (tasks.includes('int8')) {
  // Both classifiers' exports: the tiny student (what an edge device would run) and the mini teacher.
  for (const [name, dir] of [['student (tiny)', student], ['teacher (mini)', teacher]]) {
    const exp = `${dir}-export`;
    compactlm(['export', '--model', dir, '--out', exp, '--val', join(data, 'val.csv'), '--threads', threads]);
    const evalArgs = ['eval', '--model', exp, '--test', join(data, 'test.csv'), '--label-column', 'label', '--json'];
    const [fp32, int8] = [JSON.parse(compactlm(evalArgs)), JSON.parse(compactlm([...evalArgs, '--int8']))];
    // Label agreement: both precisions on every test text (JSONL in, one result line each).
    const input = parse(readFileSync(join(data, 'test.csv')), { columns: true }).map((r) => JSON.stringify({ text: r.text })).join('\n') + '\n';
    const labels = (extra) => compactlm(['infer', '--task', 'classify', '--model', exp, ...extra], input).trim().split('\n').map((l) => JSON.parse(l).label);
    const [la, lb] = [labels([]), labels(['--int8'])];
    const agree = la.filter((l, i) => l === lb[i]).length / la.length;
    const lat = int8.latency_ms;
    out({
      task: 'int8', model: name, n: la.length, label_agreement: agree, fp32_accuracy: fp32.accuracy, int8_accuracy: int8.accuracy,
      p50_ms: { fp32: lat.fp32.p50, int8: lat.int8.p50 }, p95_ms: { fp32: lat.fp32.p95, int8: lat.int8.p95 },
      latency_ratio: lat.int8.p50 / lat.fp32.p50, goal_met: agree >= 0.99 && lat.int8.p50 / lat.fp32.p50 <= 0.5,
    });
  }
}
if (tasks.includes('speed')) {
  // Rows that fill 128 tokens: the held-out corpus sample's passages, labelled by source.
  const speedDir = join(work, 'speed');
  const s = lastJson(compactlm(['finetune', '--model', 'models/compactlm-mini', '--train', 'datasets/corpus-heldout.csv', '--val', 'datasets/corpus-heldout.csv',
    '--label-column', 'source', '--out', speedDir, '--steps', '12', '--eval-every', '1000', '--batch-size', '32', '--max-length', '128',
    '--threads', threads, '--dropout', '0.1', '--json']));
  const peer = pytorchPeer();
  out({ task: 'speed', model: 'mini', batch_size: 32, max_length: s.seq_len, examples_per_s: s.examples_per_s, pytorch: peer,
    ratio_vs_pytorch: peer.examples_per_s ? s.examples_per_s / peer.examples_per_s : null });
}
if (tasks.includes('spam')) {
  const spam = join(work, 'spam');
  compactlm(['split', 'datasets/spam.csv', '--out', spam, '--ratios', '0.7,0.15,0.15', '--stratify', 'label', '--seed', '42']);
  const dir = join(work, 'spam-tiny');
  const s = lastJson(compactlm(['finetune', '--model', 'models/compactlm-tiny', '--train', join(spam, 'train.csv'), '--val', join(spam, 'val.csv'),
    '--label-column', 'label', '--out', dir, '--epochs', '3', '--batch-size', '32', '--max-length', '128', '--lr', '3e-4', '--dropout', '0.1',
    '--threads', threads, '--json']));
  const e = JSON.parse(compactlm(['eval', '--model', dir, '--test', join(spam, 'test.csv'), '--train', join(spam, 'train.csv'), '--label-column', 'label', '--json']));
  out({ task: 'spam', model: 'models/compactlm-tiny, fine-tuned', n: e.n, accuracy: e.accuracy, macro_f1: e.macro_f1, per_class: e.per_class,
    majority: e.baselines.majority, bow_logreg: e.baselines.bow_logreg, truncated: s.truncated, fine_tune_seconds: s.seconds });
}
if (tasks.includes('clinc150')) {
  const clinc = join(shared, 'intent', 'clinc150');
  if (!existsSync(join(clinc, 'train.csv'))) {
    console.error(`bench task clinc150: skipped, ${clinc} is absent`);
    out({ task: 'clinc150', skipped: `${clinc} is absent` });
  } else {
    const model = process.env.BENCH_CLINC_MODEL ?? 'models/compactlm-mini';
    const epochs = process.env.BENCH_CLINC_EPOCHS ?? '5';
    const dir = join(work, 'clinc150');
    const s = lastJson(compactlm(['finetune', '--model', model, '--train', join(clinc, 'train.csv'), '--val', join(clinc, 'val.csv'), '--label-column', 'intent',
      '--out', dir, '--epochs', epochs, '--batch-size', '32', '--max-length', '64', '--lr', '3e-4', '--dropout', '0.1', '--threads', threads, '--json']));
    const e = JSON.parse(compactlm(['eval', '--model', dir, '--test', join(clinc, 'test.csv'), '--label-column', 'intent', '--json']));
    out({ task: 'clinc150', model, epochs: Number(epochs), n: e.n, in_scope_accuracy: e.accuracy, macro_f1: e.macro_f1, fine_tune_seconds: s.seconds,
      val_accuracy: s.val_accuracy });
  }
}

/** The PyTorch peer of the speed task (bench/pytorch-finetune.py) on the peer Python, or why it was skipped. */
function pytorchPeer() {
  const { python, skipped } = peerPython({ need: ['torch', 'transformers'] });
  if (!python) return { skipped };
  const r = spawnSync(python, [join(root, 'bench/pytorch-finetune.py')], { encoding: 'utf8', env: { ...process.env, BENCH_THREADS: threads } });
  if (r.error) return { skipped: `${python}: ${r.error.message}` };
  if (r.status !== 0 || !r.stdout.trim()) return { skipped: `bench/pytorch-finetune.py on ${python}: exit ${r.status}: ${r.stderr.trim().split('\n').pop()}` };
  return { ...lastJson(r.stdout), python };
}
