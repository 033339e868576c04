/**
 * An exported CompactLM classifier in transformers.js — @xenova/transformers 2.17.2 (its own onnxruntime-node
 * 1.14) and the current @huggingface/transformers 4.3.2 (onnxruntime-node 1.30, as ours):
 * pipeline('text-classification', <export folder>) gives the labels and scores `compactlm infer --task classify`
 * prints, fp32 and int8, within 1e-4.
 *
 * What each library does (read from their sources):
 *   - file: 2.x `quantized: false` → onnx/model.onnx, `true` (its default) → onnx/model_quantized.onnx;
 *     4.x `dtype: 'fp32'` → onnx/model.onnx, `'q8'` → onnx/model_quantized.onnx (DEFAULT_DTYPE_SUFFIX_MAPPING).
 *   - all labels: 2.x `{ topk: 0 }`, 4.x `{ top_k: null }`; the default is the top label only. Labels come from
 *     config.json id2label, softmax unless problem_type is multi_label_classification.
 *   - an array of texts is one batch, right-padded to its longest (padding: true, truncation: true, at 512):
 *     fp32 results do not depend on it. int8 activation scales are per run, so batch mates change a text's int8
 *     scores: CompactLM's --int8 runs one text per run, and the int8 comparison here calls the pipeline per text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClassifier, CLASSIFY_TEXTS, inferClassify, LABELS, type Classified, type ClassifierFixture } from './helpers/classifier-fixture.js';

const TOL = 1e-4;

interface Scored { label: string; score: number }
/** The pipeline as both libraries' text-classification pipelines can be called. */
type ClassifyFn = ((texts: string | string[], options?: Record<string, unknown>) => Promise<unknown>) & { dispose(): Promise<void> };
interface Library {
  name: string;
  /** Loads pipeline('text-classification') over `model` (relative to `root`), fp32 or int8. */
  load(root: string, model: string, int8: boolean): Promise<ClassifyFn>;
  /** The option that returns every label. */
  all: Record<string, unknown>;
}

const LIBRARIES: Library[] = [
  {
    name: '@xenova/transformers 2.17.2',
    all: { topk: 0 },
    async load(root, model, int8) {
      const { pipeline, env } = await import('@xenova/transformers');
      env.allowRemoteModels = false;
      env.localModelPath = root;
      return (await pipeline('text-classification', model, { quantized: int8 })) as unknown as ClassifyFn;
    },
  },
  {
    name: '@huggingface/transformers 4.3.2',
    all: { top_k: null },
    async load(root, model, int8) {
      const { pipeline, env } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.localModelPath = root;
      return (await pipeline('text-classification', model, { dtype: int8 ? 'q8' : 'fp32' })) as unknown as ClassifyFn;
    },
  },
];

/** The largest |Δ| between transformers.js's every-label results and CompactLM's scores. */
function worstDiff(got: Scored[][], want: Classified[]): number {
  expect(got).toHaveLength(want.length);
  return Math.max(...got.map((labels, i) => Math.max(...labels.map((l) => Math.abs(l.score - want[i].scores[l.label])))));
}

/** Every label once, the first (top) one CompactLM's with its score. */
function expectSameLabels(got: Scored[][], want: Classified[]): void {
  got.forEach((labels, i) => {
    expect(labels.map((l) => l.label).sort()).toEqual(LABELS);
    expect(labels[0].label).toBe(want[i].label);
    expect(Math.abs(labels[0].score - want[i].score)).toBeLessThanOrEqual(TOL);
  });
}

let tmp: string;
let fx: ClassifierFixture;
let fp32: Classified[];
let int8: Classified[];
const report: string[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'compactlm-tjs-clf-'));
  fx = buildClassifier(tmp);
  fp32 = inferClassify(fx.exportDir, CLASSIFY_TEXTS);
  int8 = inferClassify(fx.exportDir, CLASSIFY_TEXTS, ['--int8']);
  report.push(`fixture: finetune ${fx.seconds.finetune.toFixed(1)} s, export ${fx.seconds.export.toFixed(1)} s`);
}, 300_000);

afterAll(() => {
  if (report.length) process.stdout.write(`transformers.js text-classification vs compactlm infer --task classify:\n  ${report.join('\n  ')}\n`);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('int8 scores differ from fp32 by more than twice the tolerance (so the comparisons below tell which file ran)', () => {
  const diff = Math.max(...int8.map((r, i) => Math.max(...LABELS.map((l) => Math.abs(r.scores[l] - fp32[i].scores[l])))));
  report.push(`compactlm infer --int8 vs fp32: max |Δp| ${diff.toExponential(2)}`);
  expect(diff).toBeGreaterThan(2 * TOL);
});

describe.each(LIBRARIES)('$name', (lib) => {
  test('fp32 (onnx/model.onnx): one padded batch of texts, every label, and one text\'s top label equal compactlm infer within 1e-4', async () => {
    const clf = await lib.load(tmp, 'export', false);
    try {
      const all = (await clf(CLASSIFY_TEXTS, lib.all)) as Scored[][];
      expectSameLabels(all, fp32);
      const diff = worstDiff(all, fp32);
      const [top] = (await clf(CLASSIFY_TEXTS[0])) as Scored[];
      expect(top.label).toBe(fp32[0].label);
      expect(Math.abs(top.score - fp32[0].score)).toBeLessThanOrEqual(TOL);
      report.push(`${lib.name} fp32 (batch of ${CLASSIFY_TEXTS.length}): max |Δp| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(TOL);
    } finally {
      await clf.dispose();
    }
  });

  test('int8 (onnx/model_quantized.onnx), one text per call: every label equals compactlm infer --int8 within 1e-4', async () => {
    const clf = await lib.load(tmp, 'export', true);
    try {
      const one: Scored[][] = [];
      for (const text of CLASSIFY_TEXTS) one.push((await clf(text, lib.all)) as Scored[]);
      expectSameLabels(one, int8);
      const diff = worstDiff(one, int8);
      // Batched, int8 activation scales are shared by the batch: reported, not compared.
      const batched = worstDiff((await clf(CLASSIFY_TEXTS, lib.all)) as Scored[][], int8);
      report.push(`${lib.name} int8 (one text per call): max |Δp| ${diff.toExponential(2)}; as one batch: ${batched.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(TOL);
    } finally {
      await clf.dispose();
    }
  });
});
