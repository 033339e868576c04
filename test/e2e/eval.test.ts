/**
 * `compactlm eval` end to end, on a real classifier made with the CLI as a user would:
 *
 *   compactlm finetune --model models/compactlm-tiny --train train.csv --val val.csv --text-column text
 *     --label-column source --out model --steps 60 --batch-size 16 --max-length 48 --lr 1e-3 --seed 1
 *   compactlm export --model model --out export          → onnx/model.onnx + onnx/model_quantized.onnx
 *
 * on rows of datasets/sentiment.csv, the label being the review's source (amazon, imdb, yelp): about 10 s, and
 * unlike a few-step run it predicts every class (~65% accuracy), so the per-class numbers are not trivial.
 *
 * The report's numbers are checked against predictions made another way: `infer --task classify` on the same
 * texts (one text per run on both sides, so the logits are the same to the bit), with the metric definitions of
 * scikit-learn recomputed here. Then: the export folder (both latencies, --int8), the readable summary, the files,
 * the errors of the issue, and --task mlm reproducing the held-out numbers compactlm-tiny's eval.json records.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { compactlm, inferClassify, LABELS, REPO } from './helpers/classifier-fixture.js';

const REPORT_KEYS = ['task', 'test', 'train', 'n', 'labels', 'accuracy', 'accuracy_ci95', 'macro_f1', 'per_class', 'confusion_matrix',
  'ece', 'baselines', 'robustness', 'bias', 'latency_ms', 'model', 'seed'];

let dir: string;
let fx: { modelDir: string; exportDir: string };
let rows: { text: string; pair: string; source: string; label: string }[];
const file = (name: string) => join(dir, name);

/** Runs the CLI expecting a failure: status and stderr. */
function fails(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(join(REPO, 'bin', 'compactlm'), args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 240_000 });
  return { status: r.status, stderr: r.stderr };
}

const evalJson = (args: string[]) => JSON.parse(compactlm(['eval', ...args, '--json'])) as Record<string, any>;
const withoutLatency = (r: Record<string, unknown>) => ({ ...r, latency_ms: undefined });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eval-e2e-'));
  const all = parse(readFileSync(join(REPO, 'datasets', 'sentiment.csv')), { columns: true }) as { text: string; label: string; source: string }[];
  const bySource = LABELS.map((s) => all.filter((r) => r.source === s));
  // n rows per source from each start (x and 500 + x: negative and positive reviews); the pair is the row 100 on
  const pick = (from: number, n: number) => bySource.flatMap((rs) => [from, 500 + from].flatMap((f) =>
    rs.slice(f, f + n).map((r, i) => ({ text: r.text, pair: rs[f + i + 100].text, source: r.source, label: r.label }))));
  writeFileSync(file('train.csv'), stringify(pick(0, 50), { header: true }));
  writeFileSync(file('val.csv'), stringify(pick(300, 5), { header: true }));
  rows = pick(200, 10); // 60 unseen rows, 20 per source
  writeFileSync(file('test.csv'), stringify(rows, { header: true }));
  fx = { modelDir: file('model'), exportDir: file('export') };
  compactlm(['finetune', '--model', join(REPO, 'models', 'compactlm-tiny'), '--train', file('train.csv'), '--val', file('val.csv'),
    '--text-column', 'text', '--label-column', 'source', '--out', fx.modelDir, '--steps', '60', '--batch-size', '16',
    '--max-length', '48', '--lr', '1e-3', '--seed', '1', '--threads', '1']);
  compactlm(['export', '--model', fx.modelDir, '--out', fx.exportDir, '--samples', '16', '--threads', '1']);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Confusion matrix, per-class PRF and macro F1 with sklearn's definitions, from label strings. */
function sklearnMetrics(yTrue: string[], yPred: string[], labels: string[]) {
  const matrix = labels.map((t) => labels.map((p) => yTrue.filter((y, i) => y === t && yPred[i] === p).length));
  const per = labels.map((l, j) => {
    const tp = matrix[j][j];
    const support = matrix[j].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[j], 0);
    return { l, precision: predicted ? tp / predicted : 0, recall: support ? tp / support : 0, f1: support + predicted ? (2 * tp) / (support + predicted) : 0, support, present: support + predicted > 0 };
  });
  const present = per.filter((c) => c.present);
  return { matrix, per, macroF1: present.reduce((a, c) => a + c.f1, 0) / present.length, accuracy: yTrue.filter((y, i) => y === yPred[i]).length / yTrue.length };
}

describe('eval --task classify on a fine-tuned model folder', () => {
  let r: Record<string, any>;
  const ARGS = () => ['--model', fx.modelDir, '--test', file('test.csv'), '--text-column', 'text', '--label-column', 'source',
    '--train', file('train.csv'), '--protected', 'label', '--favorable', 'amazon', '--privileged', '1', '--batch-size', '1', '--seed', '7'];
  beforeAll(() => {
    r = evalJson(ARGS());
  }, 240_000);

  test('--json: one object with the documented keys, in order', () => {
    expect(Object.keys(r)).toEqual(REPORT_KEYS);
    expect(r).toMatchObject({ task: 'classify', test: file('test.csv'), train: file('train.csv'), n: 60, labels: LABELS, seed: 7 });
    expect(Object.keys(r.per_class)).toEqual(LABELS);
    expect(r.confusion_matrix.labels).toEqual(LABELS);
    expect(Object.keys(r.baselines)).toEqual(['majority', 'bow_logreg']);
    expect(Object.keys(r.robustness)).toEqual(['typos', 'synonyms']);
    expect(Object.keys(r.latency_ms)).toEqual(['fp32']);
    expect(r.model).toMatchObject({ path: fx.modelDir, precision: 'fp32' });
    expect(r.model.parameters).toBeGreaterThan(1e6);
    expect(Object.keys(r.model.files)).toEqual(['model.safetensors']);
  });

  test('accuracy, per-class PRF, macro F1 and the confusion matrix equal sklearn\'s definitions on infer --task classify\'s predictions', () => {
    const predicted = inferClassify(fx.modelDir, rows.map((t) => t.text), ['--batch-size', '1']);
    const m = sklearnMetrics(rows.map((t) => t.source), predicted.map((p) => p.label), LABELS);
    expect(new Set(predicted.map((p) => p.label)).size).toBeGreaterThan(1); // else the per-class check says little
    expect(r.confusion_matrix.matrix).toEqual(m.matrix);
    expect(r.accuracy).toBeCloseTo(m.accuracy, 12);
    expect(r.macro_f1).toBeCloseTo(m.macroF1, 12);
    for (const c of m.per) {
      expect(r.per_class[c.l].support).toBe(c.support);
      for (const k of ['precision', 'recall', 'f1'] as const) expect(r.per_class[c.l][k]).toBeCloseTo(c[k], 12);
    }
    // ECE over 15 bins of (lo, hi], from the same top probabilities
    const correct = predicted.map((p, i) => p.label === rows[i].source);
    let ece = 0;
    for (let b = 0; b < 15; b++) {
      const inBin = predicted.map((p, i) => ({ s: p.score, c: correct[i] })).filter(({ s }) => (b === 0 ? s >= 0 : s > b / 15) && s <= (b + 1) / 15);
      if (inBin.length === 0) continue;
      const acc = inBin.filter((x) => x.c).length / inBin.length;
      const conf = inBin.reduce((a, x) => a + x.s, 0) / inBin.length;
      ece += (inBin.length / 60) * Math.abs(acc - conf);
    }
    expect(r.ece).toBeCloseTo(ece, 9);
  });

  test('accuracy_ci95 brackets the accuracy; baselines, robustness and latency are in range', () => {
    const [lo, hi] = r.accuracy_ci95;
    expect(lo).toBeLessThanOrEqual(r.accuracy);
    expect(hi).toBeGreaterThanOrEqual(r.accuracy);
    expect(hi - lo).toBeGreaterThan(0.05); // 60 rows: a wide interval
    // the training labels are balanced (100 per source): the tie goes to the first label, amazon, 20 of the 60 test rows
    expect(r.baselines.majority).toEqual({ accuracy: 20 / 60, macro_f1: expect.closeTo((2 * 20 / (20 + 60)) / 3, 12) });
    for (const x of [r.baselines.bow_logreg.accuracy, r.baselines.bow_logreg.macro_f1, r.robustness.typos.accuracy, r.robustness.synonyms.accuracy]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(r.latency_ms.fp32.p50).toBeGreaterThan(0);
    expect(r.latency_ms.fp32.p95).toBeGreaterThanOrEqual(r.latency_ms.fp32.p50);
  });

  test('bias: bias-report --prediction\'s metrics on the predictions (sentiment label as the group column)', () => {
    const predicted = inferClassify(fx.modelDir, rows.map((t) => t.text), ['--batch-size', '1']);
    writeFileSync(file('with-predictions.csv'), stringify(rows.map((t, i) => ({ ...t, predicted: predicted[i].label })), { header: true }));
    const expected = JSON.parse(compactlm(['bias-report', file('with-predictions.csv'), '--protected', 'label', '--privileged', '1',
      '--label', 'source', '--favorable', 'amazon', '--prediction', 'predicted', '--json']));
    expect(r.bias).toEqual({
      protected: 'label', privileged: '1', favorable: 'amazon',
      disparate_impact: expected.disparate_impact, statistical_parity_difference: expected.statistical_parity_difference,
      equal_opportunity_difference: expected.equal_opportunity_difference, average_odds_difference: expected.average_odds_difference,
      groups: expected.groups, warnings: expected.warnings,
      // AIF360 ClassificationMetric: of the predictions' selection rates
      predicted_disparate_impact: expected.groups.unprivileged.selection_rate / expected.groups.privileged.selection_rate,
      predicted_statistical_parity_difference: expected.groups.unprivileged.selection_rate - expected.groups.privileged.selection_rate,
    });
  });

  test('the same seed gives the same report (latency aside)', () => {
    expect(withoutLatency(evalJson(ARGS()))).toEqual(withoutLatency(r));
  }, 240_000);

  test('--pair-column: the pairs reach the model (other probabilities, so another ECE, on the same rows)', () => {
    const p = evalJson(['--model', fx.modelDir, '--test', file('test.csv'), '--label-column', 'source', '--pair-column', 'pair', '--batch-size', '1']);
    expect(p.n).toBe(60);
    expect(p.ece).not.toBe(r.ece); // r: the same texts, one per run, without pairs
    expect(Object.keys(p)).toEqual(REPORT_KEYS.filter((k) => k !== 'bias'));
    expect(p.train).toBeNull();
    expect(Object.keys(p.baselines)).toEqual(['majority']);
  }, 240_000);
});

describe('eval on the export folder', () => {
  test('fp32: latency of both precisions, fp32 first; the same predictions as the model folder (up to a near-tie)', () => {
    const base = ['--test', file('test.csv'), '--label-column', 'source'];
    const folder = evalJson(['--model', fx.modelDir, ...base]);
    const r = evalJson(['--model', fx.exportDir, ...base]);
    expect(Object.keys(r.latency_ms)).toEqual(['fp32', 'int8']);
    expect(r.model).toMatchObject({ path: fx.exportDir, precision: 'fp32', files: { 'onnx/model.onnx': expect.any(Number) } });
    expect(Math.abs(r.accuracy - folder.accuracy)).toBeLessThanOrEqual(1 / 60);
  }, 240_000);

  test('--int8: the report is of onnx/model_quantized.onnx, with both latencies', () => {
    const r = evalJson(['--model', fx.exportDir, '--test', file('test.csv'), '--label-column', 'source', '--int8']);
    expect(r.model).toMatchObject({ precision: 'int8', files: { 'onnx/model_quantized.onnx': expect.any(Number) } });
    expect(Object.keys(r.latency_ms)).toEqual(['fp32', 'int8']);
  }, 240_000);
});

describe('outputs and errors', () => {
  test('without --json: a short readable summary; --report and --html are written', () => {
    const out = compactlm(['eval', '--model', fx.modelDir, '--test', file('test.csv'), '--label-column', 'source', '--report', file('r.json'), '--html', file('r.html')]);
    expect(() => JSON.parse(out)).toThrow();
    expect(out).toMatch(/accuracy\s+\d\.\d{4}\s+\(95% CI/);
    expect(out).toMatch(/macro F1/);
    for (const l of LABELS) expect(out).toMatch(new RegExp(`^  ${l}\\s+\\d\\.\\d{4}`, 'm'));
    expect(out).toContain(`wrote report ${file('r.json')}, HTML ${file('r.html')}`);
    expect(out.trimEnd().split('\n').length).toBeLessThan(20);
    const report = JSON.parse(readFileSync(file('r.json'), 'utf8'));
    expect(report.task).toBe('classify');
    const html = readFileSync(file('r.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(html).not.toMatch(/<script|src=/i);
    expect(html).toContain('<table class="confusion">');
  }, 240_000);

  test('a test label that is not one of the model\'s: one line naming the file, line and row; exit 1', () => {
    writeFileSync(file('bad.csv'), 'text,source\nfine film,imdb\nlovely,reddit\n');
    const r = fails(['eval', '--model', fx.modelDir, '--test', file('bad.csv'), '--label-column', 'source']);
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${file('bad.csv')}:3: label "reddit" is not one of the 3 labels of the model (amazon, imdb, yelp)`);
  });

  test('--report that is the test file is refused (exit 2) and the file is left as it was', () => {
    const before = readFileSync(file('test.csv'), 'utf8');
    const r = fails(['eval', '--model', fx.modelDir, '--test', file('test.csv'), '--label-column', 'source', '--report', file('test.csv')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--report .* is --test/);
    expect(readFileSync(file('test.csv'), 'utf8')).toBe(before);
  });

  test('--int8 on a model folder (no ONNX export): one line, non-zero exit, nothing written', () => {
    const r = fails(['eval', '--model', fx.modelDir, '--test', file('test.csv'), '--label-column', 'source', '--int8', '--report', file('int8.json')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/int8/);
    expect(() => readFileSync(file('int8.json'))).toThrow();
  });
});

describe('eval --task mlm', () => {
  test('reproduces the held-out numbers compactlm-tiny\'s eval.json records (same text, seq-len, seed)', () => {
    const recorded = JSON.parse(readFileSync(join(REPO, 'models', 'compactlm-tiny', 'eval.json'), 'utf8'));
    const { seqLen, batchSize, seed } = recorded.eval;
    const r = evalJson(['--task', 'mlm', '--model', join(REPO, 'models', 'compactlm-tiny'), '--test', join(REPO, 'datasets', 'corpus-heldout.csv'),
      '--text-column', 'text', '--seq-len', String(seqLen), '--batch-size', String(batchSize), '--seed', String(seed)]);
    expect(Object.keys(r)).toEqual(['task', 'test', 'n', 'loss', 'perplexity', 'masked_token_accuracy', 'blocks', 'seq_len', 'model', 'seed']);
    expect(r.n).toBe(recorded.heldout_sample.tokens);
    expect(r.blocks).toBe(recorded.heldout_sample.blocks);
    expect(Math.abs(r.loss - recorded.heldout_sample.val_loss)).toBeLessThan(1e-3);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 9);
    expect(Math.abs(r.masked_token_accuracy - recorded.heldout_sample.val_mlm_acc)).toBeLessThanOrEqual(2 / r.n);
  }, 240_000);

  test('classify-only flags are refused with --task mlm (exit 2)', () => {
    const r = fails(['eval', '--task', 'mlm', '--model', 'm', '--test', 't.csv', '--train', 'x.csv']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--train is for --task classify, not --task mlm');
  });
});
