/**
 * Reference tests against the real Hugging Face stack (PyTorch, transformers, tokenizers, safetensors, onnx,
 * onnxruntime), on a small model this suite trains with the CLI as a user would:
 *
 *   compactlm pretrain --config <H32 L2 config> --steps 3 …   → model folder
 *   compactlm export <model folder> --out <export>             → export folder (onnx/model.onnx, model_quantized.onnx)
 *   compactlm infer --model <folder> --input <jsonl> --top-k 30522   (both folders)
 *
 * then one Python process (hf_reference.py) loads the same folders with transformers/onnx/onnxruntime, and the
 * tests compare. Needs the reference Python (python.ts: $COMPACTLM_PYTHON, .venv-ref/ from .ci/run, or python3);
 * skipped with one line without it, failing under CI=true. gradients.test.ts is the part that needs no Python.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderModel } from '../../src/infer/encoder-model.js';
import { SafetensorsFile } from '../../src/model/safetensors.js';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { decodeF64, readGradFixture } from './grad-fixture.js';
import { describeWithPython, REPO } from './python.js';

const TOL = 1e-4;
const CLS = 101;
const SEP = 102;
const PAD = 0;

/** The small model: the real vocabulary and 512 positions; initializer_range 0.2 spreads the logits (std ~1). */
const MODEL_CONFIG = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, initializer_range: 0.2 };

/** Short texts for the full-logits comparison (every position, every vocabulary entry, padded batch). */
const LOGIT_TEXTS = ['The president addressed the nation.', 'Café au lait, s\'il vous plaît!', '北京 and 東京 🍕', 'Short.'];
const FILL_MASK_TEXTS = ['The president addressed the [MASK] of the nation.', 'Paris is the [MASK] of [MASK].'];

interface TextCase { name: string; text: string }
const TEXTS = (JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'reference', 'texts.json'), 'utf8')) as { texts: TextCase[] }).texts;

/** Runs the CLI as a user does (bin/compactlm → dist/); returns stdout, throws with stderr's tail on failure. */
function compactlm(args: string[]): string {
  const bin = join(REPO, 'bin', 'compactlm');
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  const r = spawnSync(bin, args, { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 30, timeout: 240_000 });
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout;
}

/** Right-padded batch (attention_mask 0, [PAD] ids) of token-id rows; token_type_ids from `types` or zeros. */
function padBatch(rows: number[][], types?: number[][]) {
  const T = Math.max(...rows.map((r) => r.length));
  const pad = (r: number[], v: number) => [...r, ...new Array<number>(T - r.length).fill(v)];
  return {
    input_ids: rows.map((r) => pad(r, PAD)),
    attention_mask: rows.map((r) => pad(r.map(() => 1), 0)),
    token_type_ids: rows.map((r, b) => pad(types ? types[b] : r.map(() => 0), 0)),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

/** hf_reference.py's result JSON (the parts read here). */
interface HfResult {
  torch: string;
  transformers: string;
  loading_info: Record<string, string[]>;
  num_parameters: number;
  tied_decoder: boolean;
  model_dtype: string;
  logits_shape: number[];
  tokenizer_class: string;
  tokenizer_is_fast: boolean;
  fill_mask: { ids: number[]; tokens: string[]; positions: number[]; log_probs: string[] }[];
  token_ids: number[][];
  safetensors_metadata: Record<string, string>;
  onnx_checker: Record<string, { ok: boolean }>;
  onnx_io: Record<'inputs' | 'outputs', { name: string; elem_type: string; dims: (string | number)[] }[]>;
  export_logits: { shape: number[]; torch_shape: number[]; max_abs_diff: number; max_abs_logit: number; onnxruntime: string };
  safetensors_written: Record<string, { shape: number[]; f32_bits: number[] }>;
}

interface FillMaskLine { tokens: string[]; masks: { position: number; predictions: { token: string; token_id: number; score: number }[] }[] }

describeWithPython('Hugging Face reference', (python) => {
  let tmp: string;
  let modelDir: string;
  let exportDir: string;
  let pretrainSummary: { params: number };
  let ref: HfResult;
  let tokenizer: Tokenizer;
  let logitRows: number[][];
  const report: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'compactlm-hf-ref-'));
    modelDir = join(tmp, 'model');
    exportDir = join(tmp, 'export');
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(MODEL_CONFIG));
    pretrainSummary = JSON.parse(compactlm(['pretrain', '--train', join(REPO, 'test', 'fixtures', 'pretrain-small.csv'),
      '--out', modelDir, '--config', join(tmp, 'config.json'), '--steps', '3', '--batch-size', '4', '--seq-len', '32',
      '--lr', '0.01', '--warmup', '0', '--eval-every', '3', '--threads', '1', '--seed', '7', '--json']));
    compactlm(['export', modelDir, '--out', exportDir, '--samples', '8', '--threads', '1', '--json']);

    tokenizer = await loadTokenizer(modelDir);
    logitRows = LOGIT_TEXTS.map((t) => tokenizer.encode(t).input_ids);
    const pairs = [['How are you?', 'Fine, thanks.'], ['Paris is the capital of France.', 'Berlin'], ['A', 'B C D E F G']];
    const enc = pairs.map(([a, b]) => tokenizer.encode(a, b));
    const job = {
      model: modelDir,
      batch: padBatch(logitRows),
      logits_out: join(tmp, 'hf-logits.f32'),
      fill_mask_texts: FILL_MASK_TEXTS,
      texts: TEXTS.map((t) => t.text),
      max_length: 512,
      rewrite_safetensors: join(tmp, 'rewritten.safetensors'),
      export: exportDir,
      export_batch: padBatch(enc.map((e) => e.input_ids), enc.map((e) => e.token_type_ids)),
      write_safetensors: join(tmp, 'torch-written.safetensors'),
      grad_fixture: join(tmp, 'grad-fixture.json'),
    };
    writeFileSync(join(tmp, 'job.json'), JSON.stringify(job));
    const r = spawnSync(python, [join(REPO, 'test', 'reference', 'hf_reference.py'), join(tmp, 'job.json'), join(tmp, 'result.json')],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.status !== 0) throw new Error(`hf_reference.py failed (${r.status ?? r.signal}):\n${(r.stderr ?? '').slice(-3000)}`);
    ref = JSON.parse(readFileSync(join(tmp, 'result.json'), 'utf8')) as HfResult;
  }, 400_000);

  afterAll(() => {
    if (report.length) process.stdout.write(`reference (torch ${ref?.torch}, transformers ${ref?.transformers}):\n  ${report.join('\n  ')}\n`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('BertForMaskedLM.from_pretrained(folder): no missing, unexpected or mismatched keys; tied decoder; same size', () => {
    expect(ref.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(ref.tied_decoder).toBe(true);
    expect(ref.model_dtype).toBe('torch.float32');
    expect(ref.num_parameters).toBe(pretrainSummary.params);
  });

  test('logits: EncoderModel (what `compactlm infer` runs) on a padded batch equal BertForMaskedLM\'s within 1e-4', async () => {
    const model = await EncoderModel.load(modelDir, { output: 'logits', threads: 1 });
    try {
      const { data, T } = await model.run(logitRows);
      const hf = readF32(join(tmp, 'hf-logits.f32'));
      expect(T).toBe(Math.max(...logitRows.map((r) => r.length)));
      expect(ref.logits_shape).toEqual([logitRows.length, T, 30522]);
      expect(data.length).toBe(logitRows.length * T * 30522);
      const diff = maxAbsDiff(data, hf);
      report.push(`EncoderModel logits vs HF torch: max |Δ| ${diff.toExponential(2)} over ${data.length} logits (max |logit| ${maxAbsDiff(hf, new Float32Array(hf.length)).toFixed(2)})`);
      expect(diff).toBeLessThanOrEqual(TOL);
    } finally {
      await model.close();
    }
  });

  test.each([['model folder'], ['export folder']])('`compactlm infer --json` (%s): tokens and the log-probability of every vocabulary entry at each [MASK] equal HF\'s within 1e-4', (which) => {
    writeFileSync(join(tmp, 'masks.jsonl'), FILL_MASK_TEXTS.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const dir = which === 'model folder' ? modelDir : exportDir;
    const lines = compactlm(['infer', '--model', dir, '--input', join(tmp, 'masks.jsonl'), '--top-k', '30522', '--threads', '1'])
      .trim().split('\n').map((l) => JSON.parse(l) as FillMaskLine);
    expect(lines).toHaveLength(FILL_MASK_TEXTS.length);
    let worst = 0;
    lines.forEach((line, k) => {
      const hf = ref.fill_mask[k];
      expect(line.tokens).toEqual(hf.tokens);
      expect(tokenizer.encode(FILL_MASK_TEXTS[k]).input_ids).toEqual(hf.ids);
      expect(line.masks.map((m) => m.position)).toEqual(hf.positions);
      line.masks.forEach((m, j) => {
        const want = decodeF64(hf.log_probs[j]);
        expect(m.predictions).toHaveLength(want.length);
        const got = new Float64Array(want.length);
        for (const p of m.predictions) got[p.token_id] = Math.log(p.score);
        worst = Math.max(worst, maxAbsDiff(got, want));
        let best = 0;
        for (let v = 1; v < want.length; v++) if (want[v] > want[best]) best = v;
        expect(m.predictions[0].token_id).toBe(best);
      });
    });
    report.push(`compactlm infer (${which}) log-probabilities at [MASK] vs HF: max |Δ| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(TOL);
  });

  test('AutoTokenizer.from_pretrained(folder) ids equal ours on texts.json (truncation to 512 keeps the final [SEP])', () => {
    expect(ref.tokenizer_is_fast).toBe(true);
    const mismatches: string[] = [];
    TEXTS.forEach((t, i) => {
      const ours = tokenizer.encode(t.text, null, 512).input_ids;
      if (JSON.stringify(ours) !== JSON.stringify(ref.token_ids[i])) {
        const at = ours.findIndex((id, j) => id !== ref.token_ids[i][j]);
        mismatches.push(`${t.name}: first difference at ${at}: ours ${JSON.stringify(ours.slice(at, at + 5))}, HF ${JSON.stringify(ref.token_ids[i].slice(at, at + 5))}`);
      }
      expect(ours[0]).toBe(CLS);
      expect(ours[ours.length - 1]).toBe(SEP);
    });
    expect(mismatches).toEqual([]);
    const long = TEXTS.filter((t) => t.name.startsWith('600'));
    expect(long.length).toBeGreaterThanOrEqual(3);
    for (const t of long) {
      const hf: number[] = ref.token_ids[TEXTS.indexOf(t)];
      expect(hf).toHaveLength(512);
      expect(hf[511]).toBe(SEP);
    }
    report.push(`tokenizer: ${TEXTS.length} texts, ids identical (${ref.tokenizer_class}, fast)`);
  });

  test('export: onnx.checker full_check passes (fp32 and int8); inputs and the logits output as transformers.js expects, dynamic dims', () => {
    expect(Object.keys(ref.onnx_checker).sort()).toEqual(['fill_mask.onnx', 'fill_mask_quantized.onnx', 'model.onnx', 'model_quantized.onnx']);
    for (const r of Object.values(ref.onnx_checker)) expect(r.ok).toBe(true);
    const dyn = (v: { dims: (string | number)[] }) => v.dims.slice(0, 2).every((d) => typeof d === 'string' && d !== '');
    const { inputs, outputs } = ref.onnx_io;
    expect(inputs.map((i) => [i.name, i.elem_type])).toEqual([['input_ids', 'INT64'], ['attention_mask', 'INT64'], ['token_type_ids', 'INT64']]);
    expect(inputs.every(dyn)).toBe(true);
    const logits = outputs.find((o) => o.name === 'logits')!;
    expect(logits).toBeDefined();
    expect(logits.elem_type).toBe('FLOAT');
    expect(dyn(logits)).toBe(true);
    expect(logits.dims[2]).toBe(30522);
  });

  test('export: python onnxruntime logits equal HF torch\'s within 1e-4 (fp32, padded pairs with token types)', () => {
    const e = ref.export_logits;
    expect(e.shape).toEqual(e.torch_shape);
    report.push(`export onnx/model.onnx on python onnxruntime ${e.onnxruntime} vs HF torch: max |Δ| ${e.max_abs_diff.toExponential(2)} (max |logit| ${e.max_abs_logit.toFixed(2)})`);
    expect(e.max_abs_diff).toBeLessThanOrEqual(TOL);
  });

  test('safetensors: model.safetensors is byte-identical to safetensors.torch.save_file of its tensors', () => {
    expect(ref.safetensors_metadata).toEqual({ format: 'pt' });
    expect(readFileSync(join(tmp, 'rewritten.safetensors')).equals(readFileSync(join(modelDir, 'model.safetensors')))).toBe(true);
  });

  test('safetensors: F32/F16/BF16 tensors written by torch read as torch converts them to float32', async () => {
    const file = await SafetensorsFile.open(join(tmp, 'torch-written.safetensors'));
    try {
      for (const [name, want] of Object.entries(ref.safetensors_written)) {
        expect(file.tensors.get(name)!.shape).toEqual(want.shape);
        const got = await file.read(name);
        expect([...new Int32Array(got.buffer, got.byteOffset, got.length)]).toEqual(want.f32_bits);
      }
      await expect(file.read('ids')).rejects.toThrow(/has dtype I64/);
    } finally {
      await file.close();
    }
  });

  test('the frozen gradient fixture is what make_grad_fixture.py computes with this torch', () => {
    const frozen = readGradFixture();
    const fresh = readGradFixture(join(tmp, 'grad-fixture.json'));
    expect(fresh.weights_sha256).toBe(frozen.weights_sha256);
    expect(fresh.batch).toEqual(frozen.batch);
    let worst = 0;
    fresh.cases.forEach((c, k) => {
      const f = frozen.cases[k];
      expect(c.name).toBe(f.name);
      worst = Math.max(worst, Math.abs(c.loss - f.loss) / Math.abs(f.loss));
      expect(Object.keys(c.grads)).toEqual(Object.keys(f.grads));
      for (const [name, g] of Object.entries(c.grads)) {
        const scale = Math.max(f.grads[name].max_abs, 1e-6);
        worst = Math.max(worst, maxAbsDiff(decodeF64(g.float64), decodeF64(f.grads[name].float64)) / scale);
      }
    });
    report.push(`gradient fixture (torch ${frozen.torch}) vs torch ${fresh.torch} now: max relative |Δ| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-9);
  });
});
