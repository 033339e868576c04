/**
 * BERT for masked-LM (Hugging Face `BertForMaskedLM`) as an ONNX graph, in one file. The forward pass follows
 * transformers' modeling_bert.py op for op, with HF's parameter names and [out, in] Linear weights:
 *
 *   x = LayerNorm(word_emb[ids] + pos_emb[0:T] + type_emb[types]) → dropout                  (BertEmbeddings)
 *   per layer:  q,k,v = x·Wᵀ + b;  a = softmax(q·kᵀ/√d + (1 − mask)·finfo.min) → dropout;   (BertSelfAttention)
 *               x = LayerNorm(x + dropout(merge_heads(a·v)·Woᵀ + bo))                        (BertSelfOutput)
 *               x = LayerNorm(x + dropout(gelu(x·W1ᵀ + b1)·W2ᵀ + b2))                        (Intermediate/Output)
 *   MLM head:   t = LayerNorm(gelu(h·Wtᵀ + bt));  logits = t·word_embᵀ + cls.predictions.bias (tied decoder)
 *   classifier: p = tanh(h[CLS]·Wpᵀ + bp) (BertPooler);  logits = dropout(p)·Wcᵀ + bc      (BertForSequenceClassification)
 *
 *   const g = new Graph();
 *   const bert = new BertForMaskedLM(g, config, { batchSize: 16, seqLen: 128, dropout: true });
 *   const rows = bert.encode();                                   // [B·T, H] last hidden state, one row per token
 *   const logits = bert.mlmLogits(g.gather(rows, positions));     // [B·M, V], only where the loss looks
 *   const grads = bert.gradients(loss);                           // Map HF name → gradient Value
 *   // or, with a closed-form loss gradient (losses.ts): bert.gradients(logits, dLogits)
 *
 * Parameters are registered as the graph is built (`param(name, shape, init)`), so the Hugging Face name table
 * (`paramTable`) is derived from this file alone: build order is state_dict order. A head (heads/) registers its
 * own parameters the same way.
 *
 * Layout choices (for speed in ONNX Runtime, same math as HF):
 * - Hidden states are kept as rows [B·T, H], so every Linear is one Gemm with transB=1 (x·Wᵀ + b, bias fused,
 *   no Transpose of the stored [out, in] weight).
 * - Q, K and V run as ONE Gemm on Concat(Wq·(1/√d), Wk, Wv) [3H, H]: the 1/√d score scale is folded into the
 *   query weights and bias (a [H, H] multiply instead of one over every [B, heads, T, T] score), and the weight
 *   gradient comes back through the Concat as three HF-named gradients.
 * - Dropout randomness is fed: one bool keep-mask input per dropout site (ONNX Dropout's seed is a fixed attribute),
 *   `dropoutSites` lists them. Inverted dropout (torch's) is y = x·keep/p_keep; the 1/p_keep scale is folded into
 *   the op that produces x (a Linear's weight and bias, the embedding LayerNorm's γ and β, the value projection
 *   for attention probabilities), so each site costs one multiply by the mask instead of three passes.
 * - float64 graphs (gradient checks) need the tanh GELU (config.hidden_act 'gelu_new' or the `gelu` option): ORT has
 *   no float64 Erf. Graph itself picks float64 composites for LayerNorm and GELU.
 * - `dynamic: true` (inference/export) labels batch and sequence as symbolic dims; every reshape then takes its
 *   [B, T] from Shape(input_ids), so one graph serves any batch and length ≤ max_position_embeddings.
 */
import { Graph, type Value } from '../onnx/graph.js';
import { gradients as autodiff } from '../onnx/autodiff.js';
import { geluApproximation, headSize, type BertConfig } from './config.js';
import type { Rng } from '../util/rng.js';
import { initTable, MLM_BIAS, numel, WORD_EMBEDDINGS, type ParamInit, type ParamSpec } from './params.js';

export interface BertGraphOptions {
  /** Static batch size and sequence length (a dynamic graph records them as example dims only). */
  batchSize: number;
  seqLen: number;
  dtype?: 'float32' | 'float64';
  /** GELU form; default from config.hidden_act ('gelu' → exact erf, 'gelu_new'/'gelu_pytorch_tanh' → tanh). */
  gelu?: 'none' | 'tanh';
  /** Symbolic batch/sequence dims (inference graphs). */
  dynamic?: boolean;
  /** Training: declare one bool keep-mask input per dropout site (only where the config's probability is > 0). */
  dropout?: boolean;
}

/** A dropout keep-mask graph input: bool, true = keep (probability keepProb). */
export interface DropoutSite {
  name: string;
  shape: number[];
  keepProb: number;
}

/** finfo(dtype).min, the additive attention mask HF uses for padded keys. */
const FINFO_MIN = { float32: -3.4028234663852886e38, float64: -Number.MAX_VALUE };

export class BertForMaskedLM {
  readonly dtype: 'float32' | 'float64';
  readonly B: number;
  readonly T: number;
  /** Parameters by HF name, in registration (state_dict) order, and how each is initialized. */
  readonly params = new Map<string, Value>();
  readonly specs: ParamSpec[] = [];
  readonly dropoutSites: DropoutSite[] = [];
  readonly inputIds: Value;
  readonly attentionMask: Value;
  readonly tokenTypeIds: Value;

  private readonly gelu: 'none' | 'tanh';
  private btShape?: Value; // dynamic graphs: Shape(input_ids) = [B, T]

  constructor(readonly g: Graph, readonly config: BertConfig, readonly o: BertGraphOptions) {
    this.dtype = o.dtype ?? 'float32';
    this.B = o.batchSize;
    this.T = o.seqLen;
    if (this.T > config.max_position_embeddings) {
      throw new Error(`BERT graph: sequence length ${this.T} exceeds max_position_embeddings ${config.max_position_embeddings}`);
    }
    this.gelu = o.gelu ?? geluApproximation(config);
    const dims = o.dynamic ? { dims: ['batch', 'sequence'] } : {};
    this.inputIds = g.input('input_ids', 'int64', [this.B, this.T], dims);
    this.attentionMask = g.input('attention_mask', 'int64', [this.B, this.T], dims);
    this.tokenTypeIds = g.input('token_type_ids', 'int64', [this.B, this.T], dims);
    if (o.dynamic) this.btShape = g.op('Shape', [this.inputIds], {}, [{ dtype: 'int64', shape: [2] }])[0];
  }

  /**
   * The parameter `name`, registered on first use with its shape and HF initializer; weight decay applies to
   * 'normal'-initialized tensors (weights and embeddings), not to biases and LayerNorm weights.
   */
  param(name: string, shape: number[], init: ParamInit): Value {
    const known = this.params.get(name);
    if (known) return known;
    const v = this.g.param(name, shape, this.dtype);
    this.params.set(name, v);
    this.specs.push({ name, shape, init, decay: init === 'normal' || init === 'normal_pad0' });
    return v;
  }

  /** A torch.nn.Linear's weight [out, in] and bias [out], registered in that order. */
  private linearParams(prefix: string, out: number, inp: number): { w: Value; b: Value } {
    return { w: this.param(`${prefix}.weight`, [out, inp], 'normal'), b: this.param(`${prefix}.bias`, [out], 'zeros') };
  }

  // ---- building blocks -------------------------------------------------------------------------------------------

  /** torch.nn.Linear on rows [N, in]: x·Wᵀ + b with W stored [out, in]; `scale` multiplies the result. */
  linear(x: Value, prefix: string, out: number, scale = 1): Value {
    const { g } = this;
    const { w, b } = this.linearParams(prefix, out, x.shape[1]);
    // alpha scales x·Wᵀ inside the Gemm; the bias is scaled as a [out] vector (cheaper than Gemm's beta, whose
    // gradient would scale the whole [N, out] output gradient).
    return g.gemm(x, w, g.mul(b, scale), { transB: true, alpha: scale });
  }

  /** LayerNorm over the last axis; `scale` multiplies the result (folded into γ and β). */
  layerNorm(x: Value, prefix: string, scale = 1): Value {
    const { g } = this;
    const H = x.shape[x.shape.length - 1];
    const w = this.param(`${prefix}.weight`, [H], 'ones');
    const b = this.param(`${prefix}.bias`, [H], 'zeros');
    return g.layerNorm(x, g.mul(w, scale), g.mul(b, scale), { epsilon: this.config.layer_norm_eps });
  }

  activation(x: Value): Value {
    return this.g.gelu(x, this.gelu);
  }

  /** 1/p_keep of a dropout site, or 1 when this graph has no dropout there. */
  private keepScale(prob: number): number {
    return this.o.dropout && prob > 0 ? 1 / (1 - prob) : 1;
  }

  /**
   * Inverted dropout at `site`: `produce(1/p_keep)` (which folds the scale into its own op) times the fed bool
   * keep-mask input `site` of `shape` (reshaped to the value's shape).
   */
  private dropout(site: string, prob: number, shape: number[], produce: (scale: number) => Value): Value {
    return this.applyMask(produce(this.keepScale(prob)), site, prob, shape);
  }

  /** x · keep-mask, unscaled; declares the mask input. */
  private applyMask(x: Value, site: string, prob: number, shape: number[]): Value {
    if (this.keepScale(prob) === 1) return x;
    const { g } = this;
    const mask = g.input(site, 'bool', shape);
    this.dropoutSites.push({ name: site, shape, keepProb: 1 - prob });
    return g.mul(x, g.reshape(g.cast(mask, this.dtype), x.shape));
  }

  /** Reshapes rows [B·T, ...] to [B, T, ...tail]; in a dynamic graph B and T come from Shape(input_ids). */
  private unflatten(x: Value, tail: number[]): Value {
    const { g } = this;
    const shape = [this.B, this.T, ...tail];
    if (!this.btShape) return g.reshape(x, shape);
    return g.op('Reshape', [x, g.concat([this.btShape, g.ints(tail)], 0)], {}, [{ dtype: x.dtype, shape }])[0];
  }

  // ---- the model -------------------------------------------------------------------------------------------------

  /** BertEmbeddings → rows [B·T, H]. */
  embeddings(): Value {
    const { g, config } = this;
    const H = config.hidden_size;
    const words = g.gather(this.param(WORD_EMBEDDINGS, [config.vocab_size, H], 'normal_pad0'), this.inputIds); // [B, T, H]
    const table = this.param('bert.embeddings.position_embeddings.weight', [config.max_position_embeddings, H], 'normal');
    const positions = this.btShape // position_ids = arange(T): the first T rows of the table
      ? g.op('Slice', [table, g.ints([0]), g.op('Shape', [this.inputIds], { start: 1, end: 2 }, [{ dtype: 'int64', shape: [1] }])[0], g.ints([0])],
        {}, [{ dtype: this.dtype, shape: [this.T, H] }])[0]
      : g.slice(table, [0], [this.T]);
    const types = g.gather(this.param('bert.embeddings.token_type_embeddings.weight', [config.type_vocab_size, H], 'normal'), this.tokenTypeIds);
    const x = g.reshape(g.add(g.add(words, positions), types), [-1, H]);
    return this.dropout('dropout.embeddings', config.hidden_dropout_prob, [this.B, this.T, H],
      (s) => this.layerNorm(x, 'bert.embeddings.LayerNorm', s));
  }

  /** Additive attention mask [B, 1, 1, T]: 0 where attention_mask is 1, finfo.min where it is 0. */
  maskBias(): Value {
    const { g } = this;
    const m = g.cast(this.attentionMask, this.dtype);
    return g.unsqueeze(g.mul(g.sub(1, m), FINFO_MIN[this.dtype]), [1, 2]);
  }

  /** BertSelfAttention + BertSelfOutput on rows [B·T, H]. */
  attention(x: Value, l: number, maskBias: Value): Value {
    const { g, config } = this;
    const H = config.hidden_size;
    const A = config.num_attention_heads;
    const d = headSize(config);
    const pre = `bert.encoder.layer.${l}.attention`;
    // One Gemm for Q, K, V. Scales folded into the weights: 1/√d (scores), 1/p_keep (attention dropout, on V:
    // dropout(P)·V = (P·mask)·(V/p_keep)).
    const pAttn = config.attention_probs_dropout_prob;
    const [sq, sv] = [1 / Math.sqrt(d), this.keepScale(pAttn)];
    const [q0, k0, v0] = ['query', 'key', 'value'].map((n) => this.linearParams(`${pre}.self.${n}`, H, H));
    const w = g.concat([g.mul(q0.w, sq), k0.w, g.mul(v0.w, sv)], 0);
    const b = g.concat([g.mul(q0.b, sq), k0.b, g.mul(v0.b, sv)], 0);
    const qkv = g.gemm(x, w, b, { transB: true }); // [B·T, 3H]
    // One transpose to head-major [3, B, A, T, d], then q, k, v views; kᵀ as a last-two-axes swap, which ONNX
    // Runtime folds into the MatMul (and autodiff's dq = dS·k then needs no copy of k).
    const heads = g.transpose(this.unflatten(qkv, [3, A, d]), [2, 0, 3, 1, 4]);
    const [q, k, v] = g.split(heads, [1, 1, 1], 0).map((t) => g.squeeze(t, [0])); // [B, A, T, d]
    const scores = g.matmul(q, g.transposeLast2(k)); // [B, A, T, T], already /√d
    let probs = g.softmax(g.add(scores, maskBias), -1);
    probs = this.applyMask(probs, `dropout.layer.${l}.attention`, pAttn, [this.B, A, this.T, this.T]);
    const ctx = g.matmul(probs, v); // [B, A, T, d]
    const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [-1, H]); // [B·T, H]
    const out = this.dropout(`dropout.layer.${l}.attention.output`, config.hidden_dropout_prob, [this.B, this.T, H],
      (s) => this.linear(merged, `${pre}.output.dense`, H, s));
    return this.layerNorm(g.add(out, x), `${pre}.output.LayerNorm`);
  }

  /** BertIntermediate + BertOutput. */
  feedForward(x: Value, l: number): Value {
    const pre = `bert.encoder.layer.${l}`;
    const H = this.config.hidden_size;
    const h = this.activation(this.linear(x, `${pre}.intermediate.dense`, this.config.intermediate_size));
    const out = this.dropout(`dropout.layer.${l}.output`, this.config.hidden_dropout_prob, [this.B, this.T, H],
      (s) => this.linear(h, `${pre}.output.dense`, H, s));
    return this.layerNorm(this.g.add(out, x), `${pre}.output.LayerNorm`);
  }

  /** The encoder's last hidden state as rows [B·T, H] (row b·T + t is token t of sequence b). */
  encode(): Value {
    let x = this.embeddings();
    const mask = this.maskBias();
    for (let l = 0; l < this.config.num_hidden_layers; l++) x = this.feedForward(this.attention(x, l, mask), l);
    return x;
  }

  /** Rows [N, H] → [B, T, H] (for `last_hidden_state` and `logits` outputs over all positions). */
  unflattenRows(x: Value): Value {
    return this.unflatten(x, [x.shape[1]]);
  }

  /** BertOnlyMLMHead on rows [N, H] → logits [N, V]; the decoder is tied to the word embeddings. */
  mlmLogits(rows: Value): Value {
    const { config } = this;
    const bias = this.param(MLM_BIAS, [config.vocab_size], 'zeros'); // before transform.*, as in state_dict
    const t = this.layerNorm(this.activation(this.linear(rows, 'cls.predictions.transform.dense', config.hidden_size)), 'cls.predictions.transform.LayerNorm');
    return this.g.gemm(t, this.params.get(WORD_EMBEDDINGS)!, bias, { transB: true });
  }

  /** The [CLS] row of each sequence, [B, H], from rows [B·T, H]. */
  clsRows(rows: Value): Value {
    const { g } = this;
    if (this.btShape) return g.gather(this.unflattenRows(rows), g.scalar(0, 'int64'), 1); // any batch and length
    return g.gather(rows, g.constant('int64', [this.B], Array.from({ length: this.B }, (_, b) => b * this.T)));
  }

  /** BertPooler on [CLS] rows [B, H]: tanh(Linear). A masked-LM checkpoint has none; it starts as HF inits it. */
  pooler(cls: Value): Value {
    return this.g.tanh(this.linear(cls, 'bert.pooler.dense', this.config.hidden_size));
  }

  /**
   * BertForSequenceClassification's head on pooled rows [B, H] → logits [B, numLabels]: dropout with
   * `classifier_dropout` (or `hidden_dropout_prob` when null, as HF), then Linear. The 1/p_keep scale goes into
   * the Gemm's alpha, not the bias: dropout(p)·Wᵀ + b = (p·mask)·(W/p_keep)ᵀ + b.
   */
  classifierLogits(pooled: Value, numLabels: number): Value {
    const { g, config } = this;
    const prob = config.classifier_dropout ?? config.hidden_dropout_prob;
    const x = this.applyMask(pooled, 'dropout.classifier', prob, [this.B, config.hidden_size]);
    const { w, b } = this.linearParams('classifier', numLabels, config.hidden_size);
    return g.gemm(x, w, b, { transB: true, alpha: this.keepScale(prob) });
  }

  /**
   * ∂y/∂(every parameter), by HF name in state_dict order: y is a scalar loss, or any value with `seed` = ∂loss/∂y
   * of its shape (e.g. logits with a closed-form loss gradient, losses.ts). The tied word embeddings are one
   * parameter used twice; autodiff merges the lookup's row gradients into the decoder's dense one.
   */
  gradients(y: Value, seed?: Value): Map<string, Value> {
    const names = [...this.params.keys()];
    const d = autodiff(this.g, y, names.map((n) => this.params.get(n)!), seed);
    return new Map(names.map((n, i) => [n, d[i]]));
  }
}

/**
 * The parameters of `BertForMaskedLM(config)` in state_dict order, derived by building the graph once (shapes only,
 * nothing is serialized); `head` adds a task head's parameters (heads/), default the MLM head.
 */
export function paramTable(config: BertConfig, head: (g: Graph, bert: BertForMaskedLM) => unknown = (_g, bert) => bert.mlmLogits(bert.encode())): ParamSpec[] {
  const g = new Graph({ name: 'param_table' });
  const bert = new BertForMaskedLM(g, config, { batchSize: 1, seqLen: 1 });
  head(g, bert);
  return bert.specs;
}

/** Fresh BertForMaskedLM parameters for `config`, as HF initializes them (same seed → same weights). */
export function initParams(config: BertConfig, rng: Rng): Map<string, Float32Array> {
  return initTable(paramTable(config), config, rng);
}

/** Trainable parameters of BertForMaskedLM (the tied decoder counted once, as torch's `numel` sum does). */
export function countParams(config: BertConfig): number {
  return paramTable(config).reduce((n, p) => n + numel(p.shape), 0);
}
