/**
 * The shipped models (models/*, float16 safetensors) in Hugging Face transformers: `from_pretrained` loads them
 * with no missing or unexpected keys, and its float32 logits equal CompactLM's (which upcasts on load) within 1e-4.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderModel } from '../../src/infer/encoder-model.js';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.js';
import { describeWithPython, REPO } from './python.js';

const MODELS = join(REPO, 'models');
const shipped = existsSync(MODELS) ? readdirSync(MODELS).filter((n) => existsSync(join(MODELS, n, 'config.json'))).sort() : [];
const TEXT = 'The President of the United States delivered the address to Congress.';

describeWithPython('shipped models in Hugging Face transformers', (python) => {
  const tmp = mkdtempSync(join(tmpdir(), 'compactlm-shipped-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let result: { models: { dir: string; default_dtype: string; loading_info: Record<string, string[]>; hf_ids: number[] }[] };
  let ids: number[];

  beforeAll(async () => {
    ids = (await loadTokenizer()).encode(TEXT, null, 512).input_ids;
    const job = { models: shipped.map((n) => ({ dir: join(MODELS, n), input_ids: [ids], text: TEXT, logits: join(tmp, `${n}.f32`) })) };
    writeFileSync(join(tmp, 'job.json'), JSON.stringify(job));
    const r = spawnSync(python, [join(REPO, 'test', 'reference', 'shipped_models.py'), join(tmp, 'job.json'), join(tmp, 'result.json')], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`shipped_models.py failed:\n${(r.stderr ?? '').slice(-2000)}`);
    result = JSON.parse(readFileSync(join(tmp, 'result.json'), 'utf8'));
  }, 300_000);

  test.each(shipped)('%s: from_pretrained loads every key, float32 logits equal ours within 1e-4', async (name) => {
    const r = result.models.find((m) => m.dir === join(MODELS, name))!;
    for (const k of ['missing_keys', 'unexpected_keys', 'mismatched_keys']) expect([k, r.loading_info[k] ?? []]).toEqual([k, []]);
    expect(r.hf_ids).toEqual(ids);
    const config = JSON.parse(readFileSync(join(MODELS, name, 'config.json'), 'utf8'));
    const classifier = config.architectures[0] === 'BertForSequenceClassification';
    const model = await EncoderModel.load(join(MODELS, name), { output: 'logits', classifier, threads: 1 });
    try {
      const { data } = await model.run([ids]);
      const buf = readFileSync(join(tmp, `${name}.f32`));
      const hf = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
      expect(hf.length).toBe(data.length);
      let diff = 0;
      for (let i = 0; i < hf.length; i++) diff = Math.max(diff, Math.abs(hf[i] - data[i]));
      process.stdout.write(`${name}: from_pretrained default dtype ${r.default_dtype}; max |Δlogit| vs CompactLM ${diff.toExponential(2)}\n`);
      expect(diff).toBeLessThanOrEqual(1e-4);
    } finally {
      await model.close();
    }
  });
});
