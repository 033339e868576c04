/**
 * A small fine-tuned classifier made with the real CLI, as a user would, for the tests that check it in other
 * stacks (test/reference/hf-classifier.test.ts: PyTorch transformers + python onnxruntime;
 * test/e2e/transformers-js-classify.test.ts: transformers.js 2.x and 4.x):
 *
 *   compactlm finetune --model models/compactlm-tiny --train train.csv --val val.csv --text-column text
 *     --pair-column pair --label-column source --steps 10 --batch-size 8 --max-length 32 --lr 0.002 --seed 11
 *   compactlm export --model <classifier> --out <export>     → onnx/model.onnx, onnx/model_quantized.onnx
 *
 * The rows come from datasets/sentiment.csv; the label is the review's source (amazon, imdb, yelp: three named
 * classes, so id2label and the softmax axis matter), the pair another review from the same source (so
 * token_type_ids 1 is trained too). A high learning rate spreads the probabilities away from uniform.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const LABELS = ['amazon', 'imdb', 'yelp'];

/** Texts the tests classify: ordinary, accented and CJK (normalizer), long (truncation at 512 is not reached), tiny. */
export const CLASSIFY_TEXTS = [
  'What a lovely film, I would watch it again.',
  'The battery died after two days and the charger broke.',
  'Café au lait was cold; the waiter never came back!',
  '北京 and 東京 🍕 are great for dinner',
  'Short.',
  'The plot was slow, the acting was wooden, and the ending made no sense at all, although the soundtrack was nice.',
];

/** Sentence pairs ([CLS] a [SEP] b [SEP], token_type_ids 1 on b). */
export const CLASSIFY_PAIRS: [string, string][] = [
  ['The food was great.', 'The service was slow.'],
  ['This phone case fits perfectly.', 'Worth every penny.'],
  ['A masterpiece of modern cinema.', 'Too long, though.'],
];

export interface ClassifierFixture {
  modelDir: string;
  exportDir: string;
  finetune: { labels: string[]; steps: number; best_step: number; val_accuracy: number };
  seconds: { finetune: number; export: number };
}

/** Runs the built CLI (bin/compactlm → dist/); returns stdout, throws with stderr's tail on failure. */
export function compactlm(args: string[], input?: string): string {
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npx tsc -p tsconfig.json` first');
  const r = spawnSync(join(REPO, 'bin', 'compactlm'), args, { cwd: REPO, input, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 240_000 });
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout;
}

/** `compactlm infer --task classify` on many texts (JSONL in, JSONL out). */
export interface Classified { text: string; label: string; score: number; scores: Record<string, number> }
export function inferClassify(model: string, texts: readonly string[], extra: string[] = []): Classified[] {
  const input = texts.map((text) => JSON.stringify({ text })).join('\n') + '\n';
  return compactlm(['infer', '--task', 'classify', '--model', model, '--threads', '1', ...extra], input)
    .trim().split('\n').map((l) => JSON.parse(l) as Classified);
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** train.csv (60 rows: 20 per source) and val.csv (18 rows) in `dir`, columns text, pair, source. */
function writeSplits(dir: string): { train: string; val: string } {
  const rows = parse(readFileSync(join(REPO, 'datasets', 'sentiment.csv')), { columns: true }) as { text: string; source: string }[];
  const bySource = LABELS.map((s) => rows.filter((r) => r.source === s));
  // n rows from each start of each source's block (0 and 500: both sentiment labels); the pair 100 rows on.
  const csv = (starts: number[], n: number) => ['text,pair,source', ...bySource.flatMap((rs) => starts.flatMap((from) =>
    rs.slice(from, from + n).map((r, i) => [r.text, rs[from + i + 100].text, r.source].map(quote).join(','))))].join('\n') + '\n';
  const train = join(dir, 'train.csv');
  const val = join(dir, 'val.csv');
  writeFileSync(train, csv([0, 500], 10));
  writeFileSync(val, csv([300, 800], 3));
  return { train, val };
}

/** Fine-tunes and exports the classifier under `dir` (model/, export/); about 15 s on two loaded cores. */
export function buildClassifier(dir: string): ClassifierFixture {
  const { train, val } = writeSplits(dir);
  const modelDir = join(dir, 'model');
  const exportDir = join(dir, 'export');
  let t = Date.now();
  const finetune = JSON.parse(compactlm(['finetune', '--model', join(REPO, 'models', 'compactlm-tiny'), '--train', train, '--val', val,
    '--text-column', 'text', '--pair-column', 'pair', '--label-column', 'source', '--out', modelDir, '--steps', '10',
    '--batch-size', '8', '--max-length', '32', '--lr', '0.002', '--warmup', '0', '--seed', '11', '--threads', '1', '--json'])) as ClassifierFixture['finetune'];
  const finetuneSeconds = (Date.now() - t) / 1000;
  t = Date.now();
  compactlm(['export', '--model', modelDir, '--out', exportDir, '--samples', '16', '--threads', '1', '--json']);
  return { modelDir, exportDir, finetune, seconds: { finetune: finetuneSeconds, export: (Date.now() - t) / 1000 } };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
