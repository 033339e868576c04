/**
 * A CompactLM sequence classifier in the real Hugging Face stack. The classifier is made with the CLI as a user
 * would (test/e2e/helpers/classifier-fixture.ts: `finetune` models/compactlm-tiny on 60 rows with sentence pairs and
 * three named labels, then `export`); one Python process (hf_classifier.py) loads the folders with
 * BertForSequenceClassification, AutoTokenizer, pipeline('text-classification') and python onnxruntime, and the
 * tests compare with what CompactLM computes (EncoderModel logits, Classifier.predict, `compactlm infer --task
 * classify`). Needs the reference Python (python.ts); skipped with one line without it, failing under CI=true.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier } from '../../src/infer/classifier.js';
import { softmax } from '../../src/infer/fill-mask.js';
import { EncoderModel } from '../../src/infer/encoder-model.js';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { buildClassifier, CLASSIFY_PAIRS, CLASSIFY_TEXTS, inferClassify, LABELS, maxAbsDiff, type ClassifierFixture } from '../e2e/helpers/classifier-fixture.js';
import { describeWithPython, REPO } from './python.js';

const TOL = 1e-4;

/** hf_classifier.py's result JSON. */
interface HfClassifierResult {
  torch: string;
  transformers: string;
  onnxruntime: string;
  loading_info: Record<string, string[]>;
  num_parameters: number;
  model_dtype: string;
  config: { num_labels: number; id2label: Record<string, string>; label2id: Record<string, number>; problem_type: string; architectures: string[] };
  tokenizer: { class: string; is_fast: boolean };
  text_ids: number[][];
  pair_ids: number[][];
  pair_type_ids: number[][];
  text_logits: number[][];
  pair_logits: number[][];
  pair_logits_types_0: number[][];
  pipeline: { label: string; score: number }[][];
  onnx_io: Record<'inputs' | 'outputs', { name: string; elem_type: string; dims: (string | number)[] }[]>;
  export_fp32: { shape: number[]; logits: number[][]; max_abs_diff_vs_torch: number };
  export_int8_text_logits: number[][];
}

/** The largest |Δ| between rows of probabilities and softmax(logits) of HF's rows. */
function probDiff(ours: ArrayLike<number>[], hfLogits: number[][]): number {
  expect(ours).toHaveLength(hfLogits.length);
  return Math.max(...ours.map((p, i) => maxAbsDiff(p, softmax(hfLogits[i]))));
}

describeWithPython('Hugging Face reference: sequence classifier', (python) => {
  let tmp: string;
  let fx: ClassifierFixture;
  let ref: HfClassifierResult;
  let tokenizer: Tokenizer;
  const report: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'compactlm-hf-clf-'));
    fx = buildClassifier(tmp);
    tokenizer = await loadTokenizer(fx.modelDir);
    writeFileSync(join(tmp, 'job.json'), JSON.stringify({ model: fx.modelDir, export: fx.exportDir, texts: CLASSIFY_TEXTS, pairs: CLASSIFY_PAIRS }));
    const t = Date.now();
    const r = spawnSync(python, [join(REPO, 'test', 'reference', 'hf_classifier.py'), join(tmp, 'job.json'), join(tmp, 'result.json')],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.status !== 0) throw new Error(`hf_classifier.py failed (${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-3000)}`);
    ref = JSON.parse(readFileSync(join(tmp, 'result.json'), 'utf8')) as HfClassifierResult;
    report.push(`fixture: finetune ${fx.seconds.finetune.toFixed(1)} s, export ${fx.seconds.export.toFixed(1)} s, hf_classifier.py ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }, 400_000);

  afterAll(() => {
    if (report.length) process.stdout.write(`classifier reference (torch ${ref?.torch}, transformers ${ref?.transformers}, onnxruntime ${ref?.onnxruntime}):\n  ${report.join('\n  ')}\n`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('BertForSequenceClassification.from_pretrained(folder): no missing, unexpected or mismatched keys; same size', async () => {
    expect(ref.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(ref.model_dtype).toBe('torch.float32');
    const clf = await Classifier.load(fx.modelDir, { threads: 1 });
    try {
      expect(ref.num_parameters).toBe(clf.parameters);
    } finally {
      await clf.close();
    }
  });

  test('config.json as transformers reads it: num_labels, id2label, label2id, problem_type, architectures', async () => {
    expect(fx.finetune.labels).toEqual(LABELS);
    expect(ref.config).toEqual({
      num_labels: 3,
      id2label: { 0: 'amazon', 1: 'imdb', 2: 'yelp' },
      label2id: { amazon: 0, imdb: 1, yelp: 2 },
      problem_type: 'single_label_classification',
      architectures: ['BertForSequenceClassification'],
    });
    const clf = await Classifier.load(fx.exportDir, { threads: 1 });
    try {
      expect(clf.labels).toEqual(LABELS); // the export folder's config.json
    } finally {
      await clf.close();
    }
  });

  test('AutoTokenizer.from_pretrained(folder): ids of texts, and ids and token_type_ids of pairs, equal ours', () => {
    expect(ref.tokenizer.is_fast).toBe(true);
    expect(CLASSIFY_TEXTS.map((t) => tokenizer.encode(t, null, 512).input_ids)).toEqual(ref.text_ids);
    const pairs = CLASSIFY_PAIRS.map(([a, b]) => tokenizer.encode(a, b, 512));
    expect(pairs.map((e) => e.input_ids)).toEqual(ref.pair_ids);
    expect(pairs.map((e) => e.token_type_ids)).toEqual(ref.pair_type_ids);
    expect(ref.pair_type_ids.every((types) => types.includes(1))).toBe(true);
  });

  test('logits: EncoderModel (model folder, padded batch) equal BertForSequenceClassification\'s in eval mode within 1e-4', async () => {
    const model = await EncoderModel.load(fx.modelDir, { output: 'logits', classifier: true, threads: 1 });
    try {
      const { data } = await model.run(ref.text_ids);
      const hf = ref.text_logits.flat();
      const diff = maxAbsDiff(data, hf);
      // The comparison means something only if the texts' logits differ by far more than the tolerance.
      const spread = Math.max(...LABELS.map((_, c) => Math.max(...ref.text_logits.map((l) => l[c])) - Math.min(...ref.text_logits.map((l) => l[c]))));
      report.push(`logits (${CLASSIFY_TEXTS.length} texts × ${LABELS.length}) vs HF torch: max |Δ| ${diff.toExponential(2)}; spread across texts ${spread.toFixed(4)}, max |logit| ${Math.max(...hf.map(Math.abs)).toFixed(3)}`);
      expect(diff).toBeLessThanOrEqual(TOL);
      expect(spread).toBeGreaterThan(100 * TOL);
    } finally {
      await model.close();
    }
  });

  test('probabilities: Classifier.predict (model and export folder) equal softmax of HF\'s logits within 1e-4', async () => {
    for (const dir of [fx.modelDir, fx.exportDir]) {
      const clf = await Classifier.load(dir, { threads: 1 });
      try {
        const diff = probDiff(await clf.predict(CLASSIFY_TEXTS), ref.text_logits);
        report.push(`Classifier.predict (${dir === fx.modelDir ? 'model' : 'export'} folder) vs HF softmax: max |Δp| ${diff.toExponential(2)}`);
        expect(diff).toBeLessThanOrEqual(TOL);
      } finally {
        await clf.close();
      }
    }
  });

  test('sentence pairs: Classifier.predict(texts, pairs) equals HF on [CLS] a [SEP] b [SEP] with token_type_ids 1 on b within 1e-4', async () => {
    const clf = await Classifier.load(fx.modelDir, { threads: 1 });
    try {
      const ours = await clf.predict(CLASSIFY_PAIRS.map((p) => p[0]), CLASSIFY_PAIRS.map((p) => p[1]));
      const diff = probDiff(ours, ref.pair_logits);
      const types0 = probDiff(ours, ref.pair_logits_types_0);
      report.push(`pairs: Classifier.predict vs HF softmax: max |Δp| ${diff.toExponential(2)} (vs HF with token_type_ids all 0: ${types0.toExponential(2)})`);
      if (diff > TOL && types0 <= TOL) throw new Error(`pairs: max |Δp| ${diff.toExponential(2)} vs HF, but ${types0.toExponential(2)} vs HF with token_type_ids all 0: the second segment runs as token type 0, not 1 as in training and HF`);
      expect(diff).toBeLessThanOrEqual(TOL);
    } finally {
      await clf.close();
    }
  });

  test('`compactlm infer --task classify` (model folder, export folder): label, score and scores equal HF pipeline(top_k=None) within 1e-4', () => {
    for (const dir of [fx.modelDir, fx.exportDir]) {
      const lines = inferClassify(dir, CLASSIFY_TEXTS);
      expect(lines.map((l) => l.text)).toEqual(CLASSIFY_TEXTS);
      let worst = 0;
      lines.forEach((line, i) => {
        const hf = ref.pipeline[i];
        expect(line.label).toBe(hf[0].label);
        expect(Object.keys(line.scores)).toEqual(LABELS);
        worst = Math.max(worst, Math.abs(line.score - hf[0].score), ...hf.map((h) => Math.abs(line.scores[h.label] - h.score)));
      });
      report.push(`compactlm infer (${dir === fx.modelDir ? 'model' : 'export'} folder) vs HF pipeline: max |Δp| ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(TOL);
    }
  });

  test('export: onnx/model.onnx takes the three BERT inputs and gives one output logits [batch_size, 3]', () => {
    const { inputs, outputs } = ref.onnx_io;
    expect(inputs.map((i) => [i.name, i.elem_type, i.dims])).toEqual(['input_ids', 'attention_mask', 'token_type_ids']
      .map((n) => [n, 'INT64', ['batch_size', 'sequence_length']]));
    expect(outputs).toEqual([{ name: 'logits', elem_type: 'FLOAT', dims: ['batch_size', 3] }]);
  });

  test('export: python onnxruntime fp32 logits (padded batch of texts and pairs) equal HF torch\'s and ours within 1e-4', async () => {
    const e = ref.export_fp32;
    expect(e.shape).toEqual([CLASSIFY_TEXTS.length + CLASSIFY_PAIRS.length, 3]);
    expect(e.max_abs_diff_vs_torch).toBeLessThanOrEqual(TOL);
    const model = await EncoderModel.load(fx.exportDir, { output: 'logits', classifier: true, threads: 1 });
    try {
      const { data } = await model.run(ref.text_ids);
      const diff = maxAbsDiff(data, e.logits.slice(0, CLASSIFY_TEXTS.length).flat());
      report.push(`export fp32: python onnxruntime vs HF torch max |Δ| ${e.max_abs_diff_vs_torch.toExponential(2)}; vs CompactLM (export, texts) ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(TOL);
    } finally {
      await model.close();
    }
  });

  test('export int8: `compactlm infer --int8` equals python onnxruntime on onnx/model_quantized.onnx (one text per run) within 1e-4', () => {
    const lines = inferClassify(fx.exportDir, CLASSIFY_TEXTS, ['--int8']);
    const diff = probDiff(lines.map((l) => LABELS.map((k) => l.scores[k])), ref.export_int8_text_logits);
    const vsFp32 = probDiff(lines.map((l) => LABELS.map((k) => l.scores[k])), ref.text_logits);
    report.push(`export int8: compactlm infer --int8 vs python onnxruntime int8: max |Δp| ${diff.toExponential(2)} (vs HF fp32: ${vsFp32.toExponential(2)})`);
    expect(diff).toBeLessThanOrEqual(TOL);
  });
});
