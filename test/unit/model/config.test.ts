import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BERT_DEFAULTS,
  configToJson,
  geluApproximation,
  headSize,
  loadConfig,
  makeConfig,
  validateConfig,
} from '../../../src/model/config.js';
import { PRESETS, PRESET_NAMES } from '../../../src/model/presets.js';

const dir = mkdtempSync(join(tmpdir(), 'compactlm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

// bert-base-uncased's config.json as published on the Hugging Face Hub (older transformers keys included).
const BERT_BASE_UNCASED = `{
  "architectures": ["BertForMaskedLM"],
  "attention_probs_dropout_prob": 0.1,
  "gradient_checkpointing": false,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "layer_norm_eps": 1e-12,
  "max_position_embeddings": 512,
  "model_type": "bert",
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "pad_token_id": 0,
  "position_embedding_type": "absolute",
  "transformers_version": "4.6.0.dev0",
  "type_vocab_size": 2,
  "use_cache": true,
  "vocab_size": 30522
}`;

describe('presets', () => {
  test('sizes as specified (L, H, A, I) and the bert-base-uncased vocabulary', () => {
    const want: Record<string, [number, number, number, number]> = {
      tiny: [2, 128, 2, 512],
      mini: [4, 256, 4, 1024],
      small: [4, 512, 8, 2048],
      medium: [8, 512, 8, 2048],
      base: [12, 768, 12, 3072],
    };
    expect(PRESET_NAMES).toEqual(Object.keys(want));
    for (const name of PRESET_NAMES) {
      const c = makeConfig(name);
      expect([c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size]).toEqual(want[name]);
      expect(c.vocab_size).toBe(30522);
      expect(c.intermediate_size).toBe(4 * c.hidden_size);
      expect(headSize(c)).toBe(64);
    }
    expect(Object.keys(PRESETS)).toHaveLength(5);
  });

  test('HF BertConfig defaults', () => {
    const c = makeConfig('mini');
    expect(c).toMatchObject({
      model_type: 'bert',
      architectures: ['BertForMaskedLM'],
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      initializer_range: 0.02,
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
      tie_word_embeddings: true,
      torch_dtype: 'float32',
    });
    expect(typeof c.transformers_version).toBe('string');
  });

  test('overrides apply on top of the preset; unknown keys are refused', () => {
    const c = makeConfig('tiny', { vocab_size: 1000, hidden_act: 'gelu_new' });
    expect(c.vocab_size).toBe(1000);
    expect(c.hidden_size).toBe(128);
    expect(geluApproximation(c)).toBe('tanh');
    expect(geluApproximation(makeConfig('tiny'))).toBe('none');
    expect(() => makeConfig('tiny', { hiden_size: 64 } as never)).toThrow(/unknown key "hiden_size"/);
    expect(() => makeConfig('huge' as never)).toThrow(/unknown model preset "huge"/);
  });
});

describe('validateConfig', () => {
  const bad = (over: Record<string, unknown>) => () => validateConfig({ ...BERT_DEFAULTS, ...over }, 'cfg.json');
  test.each([
    [{ hidden_size: 100, num_attention_heads: 12 }, /^cfg\.json: hidden_size: must be divisible by num_attention_heads \(12\)/],
    [{ num_hidden_layers: 0 }, /num_hidden_layers: must be a positive integer \(found 0\)/],
    [{ vocab_size: 1.5 }, /vocab_size: must be a positive integer/],
    [{ intermediate_size: '3072' }, /intermediate_size: must be a positive integer \(found "3072"\)/],
    [{ hidden_act: 'relu' }, /hidden_act: must be one of gelu, gelu_new, gelu_pytorch_tanh \(found "relu"\)/],
    [{ hidden_dropout_prob: 1 }, /hidden_dropout_prob: must be a number in \[0, 1\)/],
    [{ layer_norm_eps: 0 }, /layer_norm_eps: must be a positive number/],
    [{ pad_token_id: 30522 }, /pad_token_id: must be an integer in \[0, vocab_size=30522\)/],
    [{ position_embedding_type: 'relative_key' }, /position_embedding_type: only "absolute"/],
    [{ model_type: 'roberta' }, /model_type: must be "bert"/],
    [{ tie_word_embeddings: false }, /tie_word_embeddings: must be true/],
    [{ is_decoder: true }, /is_decoder: must be false/],
  ])('%j is refused with one line', (over, re) => {
    expect(bad(over)).toThrow(re);
    try {
      bad(over)();
    } catch (e) {
      expect((e as Error).name).toBe('UserError');
      expect((e as Error).message).not.toContain('\n');
    }
  });
  test('a non-object is refused', () => {
    expect(() => validateConfig([], 'x.json')).toThrow('x.json: config must be a JSON object');
  });
});

describe('loadConfig', () => {
  test("reads the Hub's bert-base-uncased config.json, keeps keys it does not use, fills newer defaults", async () => {
    const c = await loadConfig(file('base.json', BERT_BASE_UNCASED));
    expect(c.hidden_size).toBe(768);
    expect(c.tie_word_embeddings).toBe(true);
    expect(c.classifier_dropout).toBeNull();
    expect((c as unknown as Record<string, unknown>).gradient_checkpointing).toBe(false);
    expect(c.transformers_version).toBe('4.6.0.dev0');
  });

  test('errors name the file and the key', async () => {
    const p = file('bad.json', JSON.stringify({ ...JSON.parse(BERT_BASE_UNCASED), num_attention_heads: 7 }));
    await expect(loadConfig(p)).rejects.toThrow(`${p}: hidden_size: must be divisible by num_attention_heads (7)`);
    const q = file('broken.json', '{"hidden_size": 12,');
    await expect(loadConfig(q)).rejects.toThrow(new RegExp(`^${q}: not valid JSON`));
    await expect(loadConfig(join(dir, 'none.json'))).rejects.toThrow(`${join(dir, 'none.json')}: file not found`);
  });

  test('configToJson writes HF layout (sorted keys, 2-space indent, newline) and round-trips', async () => {
    const c = makeConfig('mini', { vocab_size: 999 });
    const text = configToJson(c);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "layer_norm_eps": 1e-12,\n');
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(['vocab_size', 'hidden_size', 'model_type', 'architectures']));
    expect(await loadConfig(file('rt.json', text))).toEqual(c);
  });
});
