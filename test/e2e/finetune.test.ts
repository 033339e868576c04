/**
 * `compactlm finetune` end to end on a small slice of the bundled UCI sentiment sentences, from the shipped
 * compactlm-tiny masked LM: the classifier folder (HF keys and files), the best checkpoint by val macro-F1, exact
 * --resume, `infer --task classify` on it and on its export, `distill --task classify`, and the bad inputs of the
 * issue — each one line, a non-zero exit and nothing written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const model = join(root, 'models/compactlm-tiny');
const env = { ...process.env, CI: '1' };

let dir: string;
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env });
const json = (s: string) => JSON.parse(s.trim().split('\n').pop()!);
const TRAIN = ['--model', model, '--train', 'train.csv', '--val', 'val.csv', '--label-column', 'label', '--batch-size', '8',
  '--max-length', '32', '--lr', '3e-4', '--threads', '1', '--seed', '3'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'finetune-'));
  const rows = parse(readFileSync(join(root, 'datasets/sentiment.csv')), { columns: true }) as Array<{ text: string; label: string }>;
  const pick = (from: number, n: number) => rows.filter((_, i) => i % 25 === from).slice(0, n).map((r) => ({ text: r.text, label: r.label === '1' ? 'pos' : 'neg', w: 1 + (r.text.length % 3) }));
  writeFileSync(join(dir, 'train.csv'), stringify(pick(0, 48), { header: true }));
  writeFileSync(join(dir, 'val.csv'), stringify(pick(1, 16), { header: true }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a classifier folder', () => {
  let summary: Record<string, unknown>;
  beforeAll(() => {
    const r = run(['finetune', ...TRAIN, '--out', 'clf', '--steps', '12', '--eval-every', '4', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    summary = json(r.stdout);
  }, 180_000);

  test('is a Hugging Face BertForSequenceClassification folder with sorted string labels', () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'metrics.jsonl']) expect(existsSync(join(dir, 'clf', f))).toBe(true);
    const config = JSON.parse(readFileSync(join(dir, 'clf', 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(config.id2label).toEqual({ 0: 'neg', 1: 'pos' });
    expect(config.label2id).toEqual({ neg: 0, pos: 1 });
    expect(config.num_labels).toBe(2);
    expect(config.problem_type).toBe('single_label_classification');
    expect(summary.initialized).toEqual(['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
  });

  test('saves the checkpoint with the best validation macro-F1', () => {
    const evals = readFileSync(join(dir, 'clf', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'val_macro_f1' in r);
    expect(evals.map((r) => r.step)).toEqual([4, 8, 12]);
    const best = evals.reduce((a, b) => (b.val_macro_f1 > a.val_macro_f1 ? b : a));
    expect(summary.best_step).toBe(best.step);
    expect(summary.val_macro_f1).toBeCloseTo(best.val_macro_f1, 12);
    const saved = readFileSync(join(dir, 'clf', 'model.safetensors'));
    const bestDir = join(dir, 'clf', 'checkpoints', `step-${String(best.step).padStart(6, '0')}`);
    expect(saved.equals(readFileSync(join(bestDir, 'model.safetensors')))).toBe(true);
  });

  test('infer --task classify: one text → {text, label, score, scores}; the export gives the same in fp32', () => {
    const one = run(['infer', 'a wonderful, moving film', '--task', 'classify', '--model', 'clf']);
    expect(one.status).toBe(0);
    const r = json(one.stdout);
    expect(Object.keys(r)).toEqual(['text', 'label', 'score', 'scores']);
    expect(Object.keys(r.scores)).toEqual(['neg', 'pos']);
    expect(r.scores.neg + r.scores.pos).toBeCloseTo(1, 6);
    expect(r.score).toBe(Math.max(r.scores.neg, r.scores.pos));
    const exp = run(['export', '--model', 'clf', '--out', 'clf-export', '--threads', '1', '--samples', '20']);
    expect(exp.stderr).not.toMatch(/error/i);
    expect(exp.status).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'clf-export', 'export.json'), 'utf8'));
    expect(report.verification.fp32MaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(report.verification.int8.labelAgreement).toBeGreaterThan(0.8);
    const e = json(run(['infer', 'a wonderful, moving film', '--task', 'classify', '--model', 'clf-export']).stdout);
    expect(e.label).toBe(r.label);
    expect(Math.abs(e.scores.pos - r.scores.pos)).toBeLessThan(1e-4);
    const q = run(['infer', 'a wonderful, moving film', '--task', 'classify', '--model', 'clf-export', '--int8']);
    expect(q.status).toBe(0);
    expect(Object.keys(json(q.stdout).scores)).toEqual(['neg', 'pos']);
  }, 180_000);

  test('many texts from stdin → one JSON line each, in order', () => {
    const r = spawnSync(process.execPath, [cli, 'infer', '--task', 'classify', '--model', 'clf'], { cwd: dir, encoding: 'utf8', env, input: 'good\n{"text": "bad"}\n\nfine film\n' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).text)).toEqual(['good', 'bad', 'fine film']);
  });

  test('a classifier folder given to fill-mask, or a masked LM to classify, is one line naming the architecture', () => {
    const a = run(['infer', 'a [MASK] film', '--model', 'clf']);
    expect(a.status).not.toBe(0);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/is a BertForSequenceClassification .*not a masked LM/);
    const b = run(['infer', 'a film', '--task', 'classify', '--model', model]);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/is a BertForMaskedLM, not a fine-tuned classifier/);
  });

  test('distill --task classify: a student from compactlm-tiny, with the report of the issue', () => {
    const r = run(['distill', '--task', 'classify', '--teacher', 'clf', '--student-init', model, '--train', 'train.csv', '--val', 'val.csv',
      '--label-column', 'label', '--out', 'student', '--steps', '6', '--batch-size', '8', '--max-length', '32', '--threads', '1', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'student', 'distill_report.json'), 'utf8'));
    expect(rep.task).toBe('classify');
    for (const k of ['accuracy', 'macro_f1']) {
      expect(rep.teacher[k]).toBeGreaterThanOrEqual(0);
      expect(rep.student[k]).toBeGreaterThanOrEqual(0);
    }
    expect(rep.teacher.accuracy).toBeCloseTo(summary.val_accuracy as number, 10); // same texts, same metric code
    expect(rep.retained_accuracy).toBeCloseTo(rep.student.accuracy / rep.teacher.accuracy, 12);
    expect(rep.retained_macro_f1).toBeCloseTo(rep.student.macro_f1 / rep.teacher.macro_f1, 12);
    expect(JSON.parse(readFileSync(join(dir, 'student', 'config.json'), 'utf8')).id2label).toEqual({ 0: 'neg', 1: 'pos' });
  }, 180_000);
});

test('--resume after --stop-after ends with the same weights as an uninterrupted run', () => {
  const a = run(['finetune', ...TRAIN, '--out', 'whole', '--steps', '6', '--eval-every', '3']);
  expect(a.status).toBe(0);
  expect(run(['finetune', ...TRAIN, '--out', 'split', '--steps', '6', '--eval-every', '3', '--stop-after', '3']).status).toBe(0);
  const b = run(['finetune', ...TRAIN, '--out', 'split', '--steps', '6', '--eval-every', '3', '--resume']);
  expect(b.stderr).not.toMatch(/error/i);
  expect(b.status).toBe(0);
  expect(readFileSync(join(dir, 'split', 'model.safetensors')).equals(readFileSync(join(dir, 'whole', 'model.safetensors')))).toBe(true);
}, 240_000);

describe('bad input: one line, non-zero exit, nothing written', () => {
  const bad = (name: string, csv: string, extra: string[], message: RegExp) => test(name, () => {
    writeFileSync(join(dir, `${name}.csv`), csv);
    const out = `out-${name}`;
    const r = run(['finetune', '--model', model, '--train', `${name}.csv`, '--label-column', 'label', '--out', out, '--steps', '1', ...extra]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, out))).toBe(false);
  }, 60_000);
  bad('one-class', 'text,label\na,pos\nb,pos\nc,pos\n', [], /one class/);
  bad('no-label', 'text,stars\na,1\nb,2\n', [], /label/);
  bad('empty', 'text,label\n', [], /one-class|empty|no data rows|no rows/);
  bad('unseen-val', 'text,label\na,pos\nb,neg\nc,pos\nd,neg\n', ['--val', 'unseen-val-v.csv'], /unseen-val-v\.csv:3: label "meh" is not one of the 2 training labels/);
  beforeAll(() => writeFileSync(join(dir, 'unseen-val-v.csv'), 'text,label\nx,pos\ny,meh\n'));

  test('a classifier over other labels as --model: an error naming --reset-head; with it, a new head', () => {
    writeFileSync(join(dir, 'three.csv'), 'text,label\na,x\nb,y\nc,z\nd,x\ne,y\nf,z\n');
    const args = ['finetune', '--model', 'clf', '--train', 'three.csv', '--label-column', 'label', '--steps', '1', '--threads', '1'];
    const r = run([...args, '--out', 'o3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/already a classifier over the labels \(neg, pos\) but the training file has \(x, y, z\); pass --reset-head/);
    expect(existsSync(join(dir, 'o3'))).toBe(false);
    const ok = run([...args, '--out', 'o3', '--reset-head', '--json']);
    expect(ok.status).toBe(0);
    expect(json(ok.stdout).initialized).toEqual(['classifier.weight', 'classifier.bias']);
    expect(JSON.parse(readFileSync(join(dir, 'o3', 'config.json'), 'utf8')).num_labels).toBe(3);
  }, 60_000);
});

test('a text longer than --max-length is truncated and counted', () => {
  const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
  writeFileSync(join(dir, 'long.csv'), stringify([{ text: long, label: 'a' }, { text: 'short', label: 'b' }, { text: 'tiny', label: 'a' }, { text: long, label: 'b' }], { header: true }));
  const r = run(['finetune', '--model', model, '--train', 'long.csv', '--val', 'long.csv', '--label-column', 'label', '--out', 'long', '--steps', '1', '--max-length', '16', '--threads', '1', '--json']);
  expect(r.status).toBe(0);
  expect(json(r.stdout).truncated).toBe(4); // two in training, the same two in validation
  expect(json(r.stdout).seq_len).toBe(16);
}, 60_000);

test('--weight-column weighs the training rows only: --val needs no weight column', () => {
  writeFileSync(join(dir, 'wtrain.csv'), 'text,label,weight\ngood film,pos,2\nbad film,neg,0.5\nfine film,pos,1\nawful film,neg,1\n');
  writeFileSync(join(dir, 'wval.csv'), 'text,label\nnice,pos\nworse,neg\n');
  const r = run(['finetune', '--model', model, '--train', 'wtrain.csv', '--val', 'wval.csv', '--weight-column', 'weight', '--label-column', 'label',
    '--out', 'weighted', '--steps', '1', '--batch-size', '4', '--threads', '1', '--json']);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.status).toBe(0);
  expect(json(r.stdout).val_examples).toBe(2);
}, 60_000);
