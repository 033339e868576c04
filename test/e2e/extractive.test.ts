/**
 * `compactlm finetune --task extractive` end to end from the shipped compactlm-tiny on a small written fixture,
 * then `summarize --method trained` and `eval --task summarize --method trained` on its folder: the folder's
 * layout (config task, tensor names), the best checkpoint by validation ROUGE, the scores against the folder's own
 * ONNX graph fed by hand, windows for a long document, and the bad inputs (one line, non-zero exit, nothing
 * written). (npm test builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { stringify } from 'csv-stringify/sync';
import { SafetensorsFile } from '../../src/model/safetensors.js';
import { splitSentences } from '../../src/summarize/sentences.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const TINY = join(root, 'models/compactlm-tiny');
let dir: string;

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', input, env: { ...process.env, CI: '1' }, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** A bad input: one error line, a non-zero exit, nothing on stdout. */
function fails(args: string[], message: RegExp) {
  const r = run(args);
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}
const json = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

const PLACES = ['harbor', 'museum', 'school', 'railway', 'hospital', 'bakery', 'stadium', 'library', 'airport', 'factory', 'garden', 'bridge', 'market', 'theater', 'clinic', 'depot', 'studio'];
/** A small news story: its summary restates sentences 0 and 3, the rest is filler the oracle labels 0. */
function story(i: number): { article: string; summary: string } {
  const p = PLACES[i % PLACES.length];
  const s = [
    `The ${p} in Riverton opened a new wing on Monday after ${i + 2} years of work.`,
    'Local weather was mild and dry for most of the week.',
    `A nearby shop sold ${i + 3} kinds of bread to early visitors.`,
    `Mr. Jones, who runs the ${p}, said the money came from ${i + 40} local donors.`,
    'Traffic on the main road was slow in the evening.',
    'Some residents said they would wait for the spring.',
  ];
  return { article: s.join(' '), summary: `The ${p} in Riverton opened a new wing.\nThe money came from ${i + 40} local donors, Mr. Jones said.` };
}
const DOC = story(20).article;
const TRAIN = ['finetune', '--task', 'extractive', '--model', TINY, '--train', 'train.csv', '--val', 'val.csv', '--text-column', 'article',
  '--summary-column', 'summary', '--batch-size', '4', '--max-length', '128', '--lr', '3e-4', '--threads', '1', '--seed', '3'];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'extractive-e2e-'));
  const rows = (from: number, n: number) => stringify(Array.from({ length: n }, (_, k) => ({ id: from + k, ...story(from + k) })), { header: true });
  writeFileSync(join(dir, 'train.csv'), rows(0, 10));
  writeFileSync(join(dir, 'val.csv'), rows(10, 4));
  writeFileSync(join(dir, 'test.csv'), rows(14, 3));
  writeFileSync(join(dir, 'nosummary.csv'), stringify([{ article: DOC, highlights: 'x' }], { header: true }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an extractive summarizer folder', () => {
  let summary: Record<string, unknown>;
  beforeAll(() => {
    const r = run([...TRAIN, '--out', 'ext', '--steps', '6', '--eval-every', '2', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    summary = json(r.stdout);
  }, 180_000);

  test('config says task extractive; the weights are the encoder (BertModel names) and ext_layer.linear1', async () => {
    const config = JSON.parse(readFileSync(join(dir, 'ext', 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['BertForExtractiveSummarization']);
    expect(config.task).toBe('extractive');
    expect(config.id2label).toBeUndefined();
    const f = await SafetensorsFile.open(join(dir, 'ext', 'model.safetensors'));
    const names = f.names();
    await f.close();
    expect(names).toEqual(expect.arrayContaining(['ext_layer.linear1.weight', 'ext_layer.linear1.bias', 'bert.embeddings.word_embeddings.weight']));
    expect(names.every((n) => n.startsWith('bert.encoder.') || n.startsWith('bert.embeddings.') || n.startsWith('ext_layer.linear1.'))).toBe(true);
    for (const file of ['tokenizer.json', 'vocab.txt', 'metrics.jsonl', 'artifacts/model.onnx']) expect(existsSync(join(dir, 'ext', file))).toBe(true);
    expect(summary).toMatchObject({ task: 'extractive', train_examples: 10, val_examples: 4, steps: 6, truncated: 0, initialized: ['ext_layer.linear1.weight', 'ext_layer.linear1.bias'] });
  });

  test('saves the checkpoint with the best validation ROUGE-1 + ROUGE-2', () => {
    const evals = readFileSync(join(dir, 'ext', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'val_rouge12' in r);
    expect(evals.map((r) => r.step)).toEqual([2, 4, 6]);
    for (const r of evals) expect(r.val_rouge12).toBeCloseTo(r.val_rouge1 + r.val_rouge2, 12);
    const best = evals.reduce((a, b) => (b.val_rouge12 > a.val_rouge12 ? b : a));
    expect(summary.best_step).toBe(best.step);
    expect(summary.val_rouge1).toBeCloseTo(best.val_rouge1, 12);
  });

  test('summarize picks trained by default: top 3 in document order, scores = sigmoid of the folder\'s ONNX at each [CLS]', async () => {
    const r = run(['summarize', DOC, '--model', 'ext', '--json', '--threads', '1']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.method).toBe('trained');
    expect(out.num_sentences).toBe(6);
    expect(out.sentences).toHaveLength(3);
    const idx = out.sentences.map((s: { index: number }) => s.index);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    for (const s of out.sentences) expect(DOC.slice(s.start, s.end)).toBe(s.text);
    // by hand: [CLS] s1 [SEP] [CLS] s2 [SEP] … with token types 0, 1, 0, … into artifacts/model.onnx (sentence_logits)
    const tok = await loadTokenizer(join(dir, 'ext'));
    const sents = splitSentences(DOC).map((s) => s.text);
    const ids: number[] = [];
    const types: number[] = [];
    const cls: number[] = [];
    sents.forEach((s, i) => {
      const part = [tok.clsId, ...tok.ids(s), tok.sepId];
      cls.push(ids.length);
      ids.push(...part);
      types.push(...part.map(() => i % 2));
    });
    const session = await ort.InferenceSession.create(join(dir, 'ext', 'artifacts', 'model.onnx'));
    const t = (xs: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs, BigInt), [1, xs.length]);
    const z = (await session.run({ input_ids: t(ids), attention_mask: t(ids.map(() => 1)), token_type_ids: t(types) })).sentence_logits.data as Float32Array;
    await session.release();
    const p = cls.map((c) => 1 / (1 + Math.exp(-z[c])));
    const all = JSON.parse(run(['summarize', DOC, '--model', 'ext', '--method', 'trained', '--ratio', '1', '--json', '--threads', '1']).stdout);
    all.sentences.forEach((s: { score: number }, i: number) => expect(s.score).toBeCloseTo(p[i], 5));
    const top = [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, 3).sort((a, b) => a - b);
    expect(idx).toEqual(top); // no trigram repeats among these sentences, so plain top 3
  });

  test('a document longer than 512 tokens is scored in windows of whole sentences; one sentence comes back whole', async () => {
    const long = Array.from({ length: 12 }, (_, i) => story(i).article).join(' '); // 72 sentences
    const tok = await loadTokenizer(join(dir, 'ext'));
    expect(splitSentences(long).reduce((n, s) => n + tok.ids(s.text).length + 2, 0)).toBeGreaterThan(2 * 512);
    const out = JSON.parse(run(['summarize', '--model', 'ext', '--ratio', '1', '--json', '--threads', '1'], long).stdout);
    expect(out.num_sentences).toBe(72);
    expect(out.sentences).toHaveLength(72);
    for (const s of out.sentences) expect(s.score > 0 && s.score < 1).toBe(true);
    const one = JSON.parse(run(['summarize', 'Only one sentence here', '--model', 'ext', '--json']).stdout);
    expect(one).toMatchObject({ summary: 'Only one sentence here', method: 'trained', num_sentences: 1 });
  });

  test('eval --task summarize --method trained: ROUGE of trained next to lead on the same documents', () => {
    const r = run(['eval', '--task', 'summarize', '--model', 'ext', '--method', 'trained', '--test', 'test.csv', '--text-column', 'article',
      '--reference-column', 'summary', '--stem', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ task: 'summarize', n: 3, method: 'trained', sentences: 3 });
    for (const m of ['trained', 'lead']) for (const t of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']) expect(rep.rouge[m][t].f1).toBeGreaterThan(0);
    // without --method the folder's default is trained as well
    expect(JSON.parse(run(['eval', '--task', 'summarize', '--model', 'ext', '--test', 'test.csv', '--text-column', 'article', '--reference-column', 'summary', '--json']).stdout).method).toBe('trained');
  });

  test('what the folder cannot do is one line: fill-mask, export, --int8', () => {
    fails(['infer', 'Paris is the [MASK] of France.', '--model', 'ext'], /has no masked-LM logits/);
    fails(['export', '--model', 'ext', '--out', 'ext-export'], /has no masked-LM logits/);
    expect(existsSync(join(dir, 'ext-export'))).toBe(false);
    fails(['summarize', DOC, '--model', 'ext', '--int8'], /--int8 needs an export folder/);
  });
});

describe('bad input', () => {
  test('each is one line, a non-zero exit, and no output folder', () => {
    const before = readdirSync(dir).sort();
    fails(['finetune', '--task', 'extractive', '--model', TINY, '--train', 'nosummary.csv', '--text-column', 'article', '--out', 'x1'], /nosummary\.csv:1: no column "summary"/);
    fails(['finetune', '--model', TINY, '--train', 'train.csv', '--label-column', 'id', '--summary-column', 'summary', '--out', 'x2'], /--summary-column is for --task extractive, not --task classify/);
    fails([...TRAIN, '--label-column', 'id', '--out', 'x3'], /--label-column is for --task classify, not --task extractive/);
    fails([...TRAIN, '--class-weights', 'balanced', '--out', 'x4'], /--class-weights is for --task classify/);
    fails(['finetune', '--model', TINY, '--train', 'train.csv', '--out', 'x5'], /--task classify needs --label-column/);
    fails([...TRAIN, '--summary-column', 'article', '--out', 'x6'], /--text-column and --summary-column must name different columns/);
    fails(['summarize', DOC, '--model', TINY, '--method', 'trained'], /--method trained needs a folder from `compactlm finetune --task extractive`/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
