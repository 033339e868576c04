import { makeConfig } from '../../../src/model/config.js';
import { fillNormal, numel, WORD_EMBEDDINGS } from '../../../src/model/params.js';
import { countParams, initParams, paramTable } from '../../../src/model/bert.js';
import { Rng } from '../../../src/util/rng.js';

// The state_dict keys of one HF BertLayer, in order (bert-base-uncased, layer 0).
const HF_LAYER_KEYS = [
  'attention.self.query.weight',
  'attention.self.query.bias',
  'attention.self.key.weight',
  'attention.self.key.bias',
  'attention.self.value.weight',
  'attention.self.value.bias',
  'attention.output.dense.weight',
  'attention.output.dense.bias',
  'attention.output.LayerNorm.weight',
  'attention.output.LayerNorm.bias',
  'intermediate.dense.weight',
  'intermediate.dense.bias',
  'output.dense.weight',
  'output.dense.bias',
  'output.LayerNorm.weight',
  'output.LayerNorm.bias',
];

describe('paramTable', () => {
  test('tiny: HF BertForMaskedLM names, state_dict order and [out, in] shapes', () => {
    const c = makeConfig('tiny');
    const table = paramTable(c);
    const shapes = Object.fromEntries(table.map((p) => [p.name, p.shape]));
    const names = table.map((p) => p.name);
    expect(names).toEqual([
      'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight',
      'bert.embeddings.LayerNorm.bias',
      ...HF_LAYER_KEYS.map((k) => `bert.encoder.layer.0.${k}`),
      ...HF_LAYER_KEYS.map((k) => `bert.encoder.layer.1.${k}`),
      'cls.predictions.bias',
      'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.LayerNorm.bias',
    ]);
    expect(shapes[WORD_EMBEDDINGS]).toEqual([30522, 128]);
    expect(shapes['bert.embeddings.position_embeddings.weight']).toEqual([512, 128]);
    expect(shapes['bert.embeddings.token_type_embeddings.weight']).toEqual([2, 128]);
    expect(shapes['bert.encoder.layer.1.attention.self.key.weight']).toEqual([128, 128]);
    expect(shapes['bert.encoder.layer.1.intermediate.dense.weight']).toEqual([512, 128]);
    expect(shapes['bert.encoder.layer.1.intermediate.dense.bias']).toEqual([512]);
    expect(shapes['bert.encoder.layer.1.output.dense.weight']).toEqual([128, 512]);
    expect(shapes['cls.predictions.bias']).toEqual([30522]);
    // Tied and unused tensors are not parameters of their own.
    expect(names).not.toContain('cls.predictions.decoder.weight');
    expect(names).not.toContain('cls.predictions.decoder.bias');
    expect(names.some((n) => n.includes('pooler'))).toBe(false);
  });

  test('weight decay: every weight matrix and embedding, no bias, no LayerNorm', () => {
    for (const p of paramTable(makeConfig('tiny'))) {
      const noDecay = p.name.endsWith('.bias') || p.name.includes('LayerNorm');
      expect([p.name, p.decay]).toEqual([p.name, !noDecay]);
      expect(p.shape.length === 2).toBe(p.decay);
    }
  });

  test('base: 109,514,298 parameters (BertForMaskedLM), 109,482,240 for BertModel with pooler', () => {
    const c = makeConfig('base');
    const { vocab_size: V, hidden_size: H, intermediate_size: I, num_hidden_layers: L } = c;
    const P = c.max_position_embeddings;
    const T = c.type_vocab_size;
    // Closed form from the architecture: embeddings + L layers + MLM head (decoder tied, bias V).
    const embeddings = (V + P + T) * H + 2 * H;
    const layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H;
    const head = H * H + H + 2 * H + V;
    expect(countParams(c)).toBe(embeddings + L * layer + head);
    expect(countParams(c)).toBe(109_514_298); // published count of bert-base-uncased BertForMaskedLM
    const encoder = paramTable(c)
      .filter((p) => p.name.startsWith('bert.'))
      .reduce((n, p) => n + numel(p.shape), 0);
    const pooler = H * H + H;
    expect(encoder + pooler).toBe(109_482_240); // published count of bert-base-uncased BertModel
    expect(paramTable(c)).toHaveLength(5 + 16 * 12 + 5);
  });
});

describe('initParams', () => {
  // A narrow model keeps the test fast (jest's VM runs this code far slower than plain node).
  const c = makeConfig('tiny', { vocab_size: 500, hidden_size: 64, intermediate_size: 256, max_position_embeddings: 64 });
  const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

  test('follows HF _init_weights: N(0, 0.02) weights, zero biases, LayerNorm 1/0, zero padding row', () => {
    const params = initParams(c, new Rng(7));
    for (const spec of paramTable(c)) {
      const x = params.get(spec.name)!;
      expect(x.length).toBe(numel(spec.shape));
      if (spec.init === 'zeros') expect(x.every((v) => v === 0)).toBe(true);
      if (spec.init === 'ones') expect(x.every((v) => v === 1)).toBe(true);
    }
    const emb = params.get(WORD_EMBEDDINGS)!;
    const H = c.hidden_size;
    expect(emb.subarray(0, H).every((v) => v === 0)).toBe(true); // pad_token_id = 0
    expect(emb.subarray(H, 2 * H).some((v) => v !== 0)).toBe(true);

    // Pool all normal-initialized values: mean ≈ 0, std ≈ initializer_range.
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (const spec of paramTable(c)) {
      if (spec.init !== 'normal') continue;
      for (const v of params.get(spec.name)!) {
        n++;
        s += v;
        s2 += v * v;
      }
    }
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    expect(n).toBeGreaterThan(50_000);
    expect(Math.abs(mean)).toBeLessThan((4 * 0.02) / Math.sqrt(n)); // 4 standard errors
    expect(Math.abs(std / 0.02 - 1)).toBeLessThan(0.015);
  });

  test('same seed → same weights; another seed → different weights', () => {
    const a = initParams(c, new Rng(1)).get('bert.encoder.layer.0.attention.self.query.weight')!;
    const b = initParams(c, new Rng(1)).get('bert.encoder.layer.0.attention.self.query.weight')!;
    const d = initParams(c, new Rng(2)).get('bert.encoder.layer.0.attention.self.query.weight')!;
    expect(bytes(b).equals(bytes(a))).toBe(true);
    expect(bytes(d).equals(bytes(a))).toBe(false);
  });

  test('Box–Muller draws are standard normal (moments and the 1σ/2σ masses)', () => {
    const x = new Float32Array(200_001); // odd length: last pair half used
    fillNormal(new Rng(3), x, 1);
    const n = x.length;
    let m = 0;
    for (const v of x) m += v;
    m /= n;
    let m2 = 0;
    let m4 = 0;
    let in1 = 0;
    let in2 = 0;
    for (const v of x) {
      m2 += (v - m) ** 2;
      m4 += (v - m) ** 4;
      if (Math.abs(v) < 1) in1++;
      if (Math.abs(v) < 2) in2++;
    }
    m2 /= n;
    m4 /= n;
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(0.015);
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.06); // kurtosis of a normal
    expect(Math.abs(in1 / n - 0.682689)).toBeLessThan(0.005);
    expect(Math.abs(in2 / n - 0.954500)).toBeLessThan(0.003);
    expect(x[n - 1]).not.toBe(0);
  });
});
