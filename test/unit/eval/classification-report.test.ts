import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { biasReport } from '../../../src/data/bias.js';
import { bootstrapMeanCi95 } from '../../../src/eval/bootstrap.js';
import { calibration } from '../../../src/eval/calibration.js';
import { classificationMetrics } from '../../../src/eval/classification-metrics.js';
import {
  evaluateClassification, LATENCY_TEXTS, predictionBiasCounts, readLabelledCsv, type ClassifyEvalOptions, type LoadClassifier,
} from '../../../src/eval/classification-report.js';
import type { TextClassifier } from '../../../src/infer/text-classifier.js';

// The report is assembled around a stand-in classifier with fixed probabilities per text (the real one,
// infer/classifier.ts, is exercised by test/e2e/eval.test.ts): these tests check the assembly, not a model.
const LABELS = ['neg', 'pos', 'neu'];

/** Fixed probabilities: "good" → pos, "bad" → neg, otherwise neu (a typo in the keyword changes the answer). */
function probsOf(text: string): Float32Array {
  if (/\bgood\b/.test(text)) return Float32Array.from([0.1, 0.8, 0.1]);
  if (/\bbad\b/.test(text)) return Float32Array.from([0.6, 0.1, 0.3]);
  return Float32Array.from([0.25, 0.25, 0.5]);
}

function fakeLoader(calls: { dir: string; int8?: boolean; maxLength?: number; batchSize?: number }[], batches: number[]): LoadClassifier {
  return async (dir, o) => {
    calls.push({ dir, ...o });
    const clf: TextClassifier = {
      labels: LABELS,
      parameters: 1234,
      files: { 'model.safetensors': 5000 },
      predict: async (texts, pairs) => {
        batches.push(texts.length);
        return texts.map((t, i) => probsOf(pairs ? `${t} ${pairs[i]}` : t));
      },
      close: async () => {},
    };
    return clf;
  };
}

const TEST_CSV = [
  'text,label,group,note',
  'a good film,pos,m,1',
  'good fun,pos,f,2',
  'so good,neu,m,3',
  'bad acting,neg,f,4',
  'really bad,neg,m,5',
  'bad but good,neg,f,6',
  'nothing much,neu,m,7',
  'it was fine,neu,f,8',
  'plain,pos,m,9',
  '"bad, bad",neg,m,10',
].join('\n');
// predictions: pos pos pos neg neg pos neu neu neu neg → 7 of 10 right
const Y_TRUE = [1, 1, 2, 0, 0, 0, 2, 2, 1, 0];
const Y_PRED = [1, 1, 1, 0, 0, 1, 2, 2, 2, 0];

let dir: string;
let testCsv: string;
let calls: { dir: string; int8?: boolean; maxLength?: number; batchSize?: number }[];
let batches: number[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eval-report-'));
  testCsv = join(dir, 'test.csv');
  writeFileSync(testCsv, `${TEST_CSV}\n`);
  calls = [];
  batches = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function options(o: Partial<ClassifyEvalOptions> = {}): ClassifyEvalOptions {
  return { model: join(dir, 'model'), test: testCsv, textColumn: 'text', labelColumn: 'label', maxLength: 64, batchSize: 4, int8: false, seed: 42, ...o };
}

describe('evaluateClassification (stand-in classifier with fixed probabilities)', () => {
  test('the report: documented keys in order, each number from its metric function', async () => {
    const { report: r, reliability } = await evaluateClassification(options(), fakeLoader(calls, batches));
    expect(Object.keys(r)).toEqual(['task', 'test', 'train', 'n', 'labels', 'accuracy', 'accuracy_ci95', 'macro_f1', 'per_class',
      'confusion_matrix', 'ece', 'baselines', 'robustness', 'latency_ms', 'model', 'seed']);
    const m = classificationMetrics(Y_TRUE, Y_PRED, LABELS);
    expect(r).toMatchObject({ task: 'classify', test: testCsv, train: null, n: 10, labels: LABELS, seed: 42 });
    expect(r.accuracy).toBe(0.7);
    expect(r.macro_f1).toBe(m.macro_f1);
    expect(r.per_class).toEqual(m.per_class);
    expect(r.confusion_matrix).toEqual(m.confusion_matrix);
    const correct = Y_PRED.map((p, i) => p === Y_TRUE[i]);
    const conf = Y_PRED.map((p) => Math.fround([0.6, 0.8, 0.5][p])); // the top probability of each prediction (float32)
    expect(r.ece).toBeCloseTo(calibration(conf, correct).ece, 12);
    expect(reliability).toEqual(calibration(conf, correct).bins);
    expect(r.accuracy_ci95).toEqual(bootstrapMeanCi95(correct.map(Number), { seed: 42 }));
    // no --train: the majority label is the test set's own (neg, 4 rows)
    expect(r.baselines).toEqual({ majority: { accuracy: 0.4, macro_f1: (2 * 4 / (4 + 10)) / 3 } });
    expect(Object.keys(r.robustness)).toEqual(['typos', 'synonyms']);
    for (const k of ['typos', 'synonyms'] as const) expect(r.robustness[k].accuracy).toBeGreaterThanOrEqual(0);
    expect(Object.keys(r.latency_ms)).toEqual(['fp32']);
    expect(r.latency_ms.fp32!.p95).toBeGreaterThanOrEqual(r.latency_ms.fp32!.p50);
    expect(r.model).toEqual({ path: join(dir, 'model'), precision: 'fp32', parameters: 1234, files: { 'model.safetensors': 5000 } });
    expect(calls).toEqual([{ dir: join(dir, 'model'), int8: false, maxLength: 64, batchSize: 4 }]);
  });

  test('texts go in batches of --batch-size; latency is timed one text at a time', async () => {
    await evaluateClassification(options({ batchSize: 4 }), fakeLoader(calls, batches));
    // test set, typos copy, synonyms copy: 4 + 4 + 2 each; then 5 warm-up and min(10, LATENCY_TEXTS) timed single texts
    const single = 5 + Math.min(10, LATENCY_TEXTS);
    expect(batches).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2, ...new Array<number>(single).fill(1)]);
  });

  test('an export with both ONNX files: latency of both precisions, fp32 first, the evaluated one from --int8', async () => {
    mkdirSync(join(dir, 'model', 'onnx'), { recursive: true });
    writeFileSync(join(dir, 'model', 'onnx', 'model.onnx'), '');
    writeFileSync(join(dir, 'model', 'onnx', 'model_quantized.onnx'), '');
    const { report: r } = await evaluateClassification(options({ int8: true }), fakeLoader(calls, batches));
    expect(r.model.precision).toBe('int8');
    expect(Object.keys(r.latency_ms)).toEqual(['fp32', 'int8']);
    expect(calls.map((c) => c.int8)).toEqual([true, false]);
  });

  test('--train: the majority label comes from it, and bow_logreg is trained on it', async () => {
    const train = join(dir, 'train.csv');
    writeFileSync(train, 'text,label\ngood good,pos\ngood movie,pos\nvery good,pos\nbad,neg\nplain,neu\n');
    const { report: r } = await evaluateClassification(options({ train }), fakeLoader(calls, batches));
    expect(r.train).toBe(train);
    expect(r.baselines.majority.accuracy).toBe(0.3); // always pos: 3 of 10
    expect(Object.keys(r.baselines.bow_logreg!)).toEqual(['accuracy', 'macro_f1']);
  });

  test('--protected: bias-report\'s metrics, equal to bias-report --prediction on the same predictions', async () => {
    const { report: r } = await evaluateClassification(options({ bias: { protected: 'group', favorable: 'pos', privileged: 'm' } }), fakeLoader(calls, batches));
    const csv = join(dir, 'with-predictions.csv');
    const rows = TEST_CSV.split('\n').slice(1);
    writeFileSync(csv, ['label,group,predicted', ...rows.map((_, i) => `${LABELS[Y_TRUE[i]]},${['m', 'f', 'm', 'f', 'm', 'f', 'm', 'f', 'm', 'm'][i]},${LABELS[Y_PRED[i]]}`)].join('\n'));
    const { report: expected } = await biasReport(csv, { protected: 'group', label: 'label', privileged: 'm', favorable: 'pos', prediction: 'predicted' });
    expect(r.bias).toEqual({
      protected: 'group', privileged: 'm', favorable: 'pos',
      disparate_impact: expected.disparate_impact,
      statistical_parity_difference: expected.statistical_parity_difference,
      equal_opportunity_difference: expected.equal_opportunity_difference,
      average_odds_difference: expected.average_odds_difference,
      groups: expected.groups,
      warnings: expected.warnings,
      predicted_disparate_impact: expected.groups.unprivileged.selection_rate! / expected.groups.privileged.selection_rate!,
      predicted_statistical_parity_difference: expected.groups.unprivileged.selection_rate! - expected.groups.privileged.selection_rate!,
    });
    expect(Object.keys(r)).toContain('bias');
  });

  test('--protected without --privileged: the most frequent value is privileged', async () => {
    const { report: r } = await evaluateClassification(options({ bias: { protected: 'group', favorable: 'pos' } }), fakeLoader(calls, batches));
    expect(r.bias!.privileged).toBe('m');
  });

  test('a label that is not one of the model\'s: one line naming the file, line, row and column', async () => {
    writeFileSync(testCsv, 'text,label\nfine,pos\n"two\nlines",neg\nhm,positive\n');
    await expect(evaluateClassification(options(), fakeLoader(calls, batches)))
      .rejects.toThrow(`${testCsv}:5: label "positive" is not one of the 3 labels of the model (neg, pos, neu)`);
  });

  test('--favorable that is not one of the model\'s labels is a usage error', async () => {
    await expect(evaluateClassification(options({ bias: { protected: 'group', favorable: 'yes' } }), fakeLoader(calls, batches)))
      .rejects.toMatchObject({ message: expect.stringContaining('--favorable "yes" is not one of the model\'s labels'), exitCode: 2 });
  });

  test('--privileged that the column does not hold: an error before any prediction is made', async () => {
    await expect(evaluateClassification(options({ bias: { protected: 'group', favorable: 'pos', privileged: 'x' } }), fakeLoader(calls, batches)))
      .rejects.toThrow(`${testCsv}: column "group" has no value "x" (--privileged)`);
    expect(batches).toEqual([]);
  });

  test('a missing column is the CSV reader\'s error, naming the columns there are', async () => {
    await expect(evaluateClassification(options({ labelColumn: 'gold' }), fakeLoader(calls, batches))).rejects.toThrow(/no column "gold"/);
  });
});

describe('readLabelledCsv and predictionBiasCounts', () => {
  test('labels become ids; text, pair and (trimmed) protected columns are kept in order', async () => {
    writeFileSync(testCsv, 'a,b,y,g\nx1,y1,pos , m \nx2,y2,neu,f\n');
    const rows = await readLabelledCsv(testCsv, { text: 'a', pair: 'b', label: 'y', protected: 'g' }, LABELS);
    expect(rows).toEqual({ texts: ['x1', 'x2'], pairs: ['y1', 'y2'], y: Int32Array.from([1, 2]), groups: ['m', 'f'] });
  });

  test('counts per group as bias.ts addRow does', () => {
    const c = predictionBiasCounts(['m', 'f', 'm'], [1, 1, 0], [1, 0, 1], 1, 'm');
    expect(c.rows).toBe(3);
    expect(c.privileged).toMatchObject({ count: 2, tp: 1, fp: 1, tn: 0, fn: 0 });
    expect(c.unprivileged).toMatchObject({ count: 1, tp: 0, fn: 1 });
    expect([...c.byValue.keys()]).toEqual(['m', 'f']);
  });
});
