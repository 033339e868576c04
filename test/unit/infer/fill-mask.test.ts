/**
 * Fill-mask against a float64 reference written from HF modeling_bert.py (BertForMaskedLM in eval mode) in plain
 * loops, on a tiny random BERT whose weights are large enough that the probabilities differ: same tokenization
 * ([CLS] … [SEP], attention mask all ones, token types 0), same top tokens, same softmax probabilities.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModelFolder } from '../../../src/model/checkpoint-folder.js';
import { makeConfig, type BertConfig } from '../../../src/model/config.js';
import { fillNormal } from '../../../src/model/params.js';
import { paramTable } from '../../../src/model/bert.js';
import { FillMask, formatTable, softmax, topK } from '../../../src/infer/fill-mask.js';
import { writeTokenizerFiles } from '../../../src/tokenizer/tokenizer-json.js';
import { Rng } from '../../../src/util/rng.js';

type P = Map<string, Float32Array>;

/** erf: its Maclaurin series below 3 (double precision there), Abramowitz & Stegun 7.1.26 (|ε| < 1.5e-7) above. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 3) {
    const t = 1 / (1 + 0.3275911 * a);
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
    return Math.sign(x) * y;
  }
  let sum = 0;
  let term = x; // (−1)ⁿ x^(2n+1) / n!
  for (let n = 0; Math.abs(term) > 1e-17; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

function linear(x: number[][], w: Float32Array, b: Float32Array, out: number): number[][] {
  const inp = x[0].length;
  return x.map((row) => Array.from({ length: out }, (_, o) => {
    let s = b[o];
    for (let i = 0; i < inp; i++) s += row[i] * w[o * inp + i];
    return s;
  }));
}

function layerNorm(x: number[][], w: Float32Array, b: Float32Array, eps: number): number[][] {
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const vari = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(vari + eps)) * w[i] + b[i]);
  });
}

/** BertForMaskedLM forward (eval mode) for one sequence → logits [T][V]. */
function referenceLogits(c: BertConfig, p: P, ids: number[]): number[][] {
  const H = c.hidden_size;
  const A = c.num_attention_heads;
  const d = H / A;
  const get = (n: string) => p.get(n)!;
  let x = ids.map((id, t) => Array.from({ length: H }, (_, h) =>
    get('bert.embeddings.word_embeddings.weight')[id * H + h] + get('bert.embeddings.position_embeddings.weight')[t * H + h] +
    get('bert.embeddings.token_type_embeddings.weight')[h]));
  x = layerNorm(x, get('bert.embeddings.LayerNorm.weight'), get('bert.embeddings.LayerNorm.bias'), c.layer_norm_eps);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const pre = `bert.encoder.layer.${l}`;
    const lin = (v: number[][], n: string, out: number) => linear(v, get(`${pre}.${n}.weight`), get(`${pre}.${n}.bias`), out);
    const q = lin(x, 'attention.self.query', H);
    const k = lin(x, 'attention.self.key', H);
    const v = lin(x, 'attention.self.value', H);
    const ctx = x.map(() => new Array<number>(H).fill(0));
    for (let a = 0; a < A; a++) {
      for (let i = 0; i < ids.length; i++) {
        const scores = ids.map((_, j) => {
          let s = 0;
          for (let e = 0; e < d; e++) s += q[i][a * d + e] * k[j][a * d + e];
          return s / Math.sqrt(d);
        });
        const probs = softmax(scores);
        for (let j = 0; j < ids.length; j++) for (let e = 0; e < d; e++) ctx[i][a * d + e] += probs[j] * v[j][a * d + e];
      }
    }
    const att = lin(ctx, 'attention.output.dense', H).map((row, i) => row.map((val, h) => val + x[i][h]));
    x = layerNorm(att, get(`${pre}.attention.output.LayerNorm.weight`), get(`${pre}.attention.output.LayerNorm.bias`), c.layer_norm_eps);
    const inter = lin(x, 'intermediate.dense', c.intermediate_size).map((row) => row.map(gelu));
    const out = lin(inter, 'output.dense', H).map((row, i) => row.map((val, h) => val + x[i][h]));
    x = layerNorm(out, get(`${pre}.output.LayerNorm.weight`), get(`${pre}.output.LayerNorm.bias`), c.layer_norm_eps);
  }
  let t = linear(x, get('cls.predictions.transform.dense.weight'), get('cls.predictions.transform.dense.bias'), H).map((row) => row.map(gelu));
  t = layerNorm(t, get('cls.predictions.transform.LayerNorm.weight'), get('cls.predictions.transform.LayerNorm.bias'), c.layer_norm_eps);
  return linear(t, get('bert.embeddings.word_embeddings.weight'), get('cls.predictions.bias'), c.vocab_size);
}

describe('FillMask', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compactlm-fillmask-'));
  const config = makeConfig('tiny', { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 });
  const params: P = new Map();
  let fm: FillMask;
  beforeAll(async () => {
    const rng = new Rng(5);
    for (const spec of paramTable(config)) {
      const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
      fillNormal(rng, data, 0.5); // large weights, LayerNorm scales and biases included: peaked probabilities
      params.set(spec.name, data);
    }
    await saveModelFolder(dir, config, params, { writeExtraFiles: writeTokenizerFiles });
    fm = await FillMask.load(dir, { threads: 1 });
  });
  afterAll(async () => {
    await fm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('same tokens, top-k and probabilities as the float64 reference', async () => {
    const text = 'The capital of France is [MASK], and the [MASK] is large.';
    const r = await fm.predict(text, 5);
    expect(r.tokens[0]).toBe('[CLS]');
    expect(r.tokens[r.tokens.length - 1]).toBe('[SEP]');
    const ids = fm.tokenizer.encode(text).input_ids;
    expect(r.masks.map((m) => m.position)).toEqual(ids.flatMap((id, i) => (id === 103 ? [i] : [])));
    const logits = referenceLogits(config, params, ids);
    for (const m of r.masks) {
      const probs = softmax(logits[m.position]);
      const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
      expect(probs[order[0]]).toBeGreaterThan(50 / config.vocab_size); // the test is not on a flat distribution
      expect(m.predictions.map((p) => p.token_id)).toEqual(order.slice(0, 5));
      m.predictions.forEach((p, j) => {
        expect(Math.abs(p.score - probs[p.token_id])).toBeLessThan(1e-6);
        if (j > 0) expect(p.score).toBeLessThanOrEqual(m.predictions[j - 1].score);
        expect(p.token).toBe(fm.tokenizer.idsToTokens([p.token_id])[0]);
      });
    }
  });

  test('a padded batch (masked rows only, flat b·T + t) gives each text its own answers', async () => {
    const texts = ['[MASK] is short.', 'A much longer text where the [MASK] sits in the middle and another [MASK] near the end.', 'No wait, [MASK] [MASK] [MASK].'];
    const batch = await fm.predictBatch(texts, 3);
    for (const [i, text] of texts.entries()) {
      const alone = await fm.predict(text, 3);
      expect(batch[i].masks.map((m) => m.position)).toEqual(alone.masks.map((m) => m.position));
      batch[i].masks.forEach((m, j) => {
        expect(m.predictions.map((p) => p.token_id)).toEqual(alone.masks[j].predictions.map((p) => p.token_id));
        m.predictions.forEach((p, k) => expect(Math.abs(p.score - alone.masks[j].predictions[k].score)).toBeLessThan(1e-5));
      });
    }
  });

  test('scores are probabilities over the whole vocabulary (top-k = V sums to 1)', async () => {
    const r = await fm.predict('a [MASK] b', config.vocab_size);
    const preds = r.masks[0].predictions;
    expect(preds).toHaveLength(config.vocab_size);
    expect(new Set(preds.map((p) => p.token_id)).size).toBe(config.vocab_size);
    expect(Math.abs(preds.reduce((s, p) => s + p.score, 0) - 1)).toBeLessThan(1e-9);
  });

  test('the table lists each [MASK] with rank, token, id and score; no [MASK] is an error', async () => {
    const r = await fm.predict('x [MASK] y [MASK]', 2);
    const lines = formatTable(r).trimEnd().split('\n');
    expect(lines).toHaveLength(2 * 4);
    expect(lines[0]).toBe(`[MASK] 1 of 2 (token position ${r.masks[0].position})`);
    expect(lines[2]).toContain(String(r.masks[0].predictions[0].token_id));
    expect(lines[2]).toContain(r.masks[0].predictions[0].score.toFixed(6));
    await expect(fm.predict('no mask here', 5)).rejects.toThrow(/no \[MASK\] token/);
  });
});

test('topK is the first k of a full sort by (value desc, id asc), ties and all', () => {
  const rng = new Rng(7);
  for (const [n, k, levels] of [[1000, 5, 0], [1000, 5, 4], [30, 30, 3], [7, 10, 0], [200, 1, 2]] as const) {
    // levels > 0: values from a few distinct levels, so most of them tie
    const values = Array.from({ length: n }, () => (levels ? Math.floor(rng.next() * levels) : rng.next()));
    const sorted = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
    expect(topK(values, k)).toEqual(sorted.slice(0, k));
  }
});
