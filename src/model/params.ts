/**
 * Parameter specs (name, shape, initializer, weight decay) and HF's initializers. The table itself is derived from
 * the model definition (bert.ts `paramTable`): names and order are those of HF's `state_dict()` (a module's own
 * parameters come before its children's, hence `cls.predictions.bias` before `cls.predictions.transform.*`).
 * Linear weights are `[out, in]` as in torch.nn.Linear.
 *
 * Not in the table, on purpose:
 * - `cls.predictions.decoder.weight`: tied to `bert.embeddings.word_embeddings.weight` (tie_word_embeddings).
 * - `cls.predictions.decoder.bias`: the same Parameter as `cls.predictions.bias` (`decoder.bias = self.bias`).
 *   Both are listed in `BertForMaskedLM._tied_weights_keys` = ["predictions.decoder.bias",
 *   "cls.predictions.decoder.weight"], so `save_pretrained` drops them from model.safetensors, and
 *   `from_pretrained` re-ties them.
 * - `bert.pooler.*`: BertForMaskedLM builds BertModel with `add_pooling_layer=False`.
 * - `bert.embeddings.position_ids`: a buffer, not a parameter (non-persistent in recent HF).
 */
import type { Rng } from '../util/rng.js';
import type { BertConfig } from './config.js';

/** How HF `BertPreTrainedModel._init_weights` initializes a tensor. */
export type ParamInit =
  | 'normal' // Linear / Embedding weight: N(0, initializer_range)
  | 'normal_pad0' // word embeddings: N(0, initializer_range) with the padding_idx row zeroed
  | 'zeros' // biases, LayerNorm bias
  | 'ones'; // LayerNorm weight

export interface ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
  /** AdamW weight decay applies (HF Trainer convention: not biases, not LayerNorm weights). */
  decay: boolean;
}

export const WORD_EMBEDDINGS = 'bert.embeddings.word_embeddings.weight';
export const MLM_BIAS = 'cls.predictions.bias';
/** Tied/shared tensors that a checkpoint may contain under another name (see the file comment). */
export const TIED_DECODER_WEIGHT = 'cls.predictions.decoder.weight';
export const TIED_DECODER_BIAS = 'cls.predictions.decoder.bias';

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fills `out` with N(0, std) draws, two per Box–Muller pair. */
export function fillNormal(rng: Rng, out: Float32Array, std: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - rng.next(); // (0, 1]: log stays finite
    const u2 = rng.next();
    const r = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/** One tensor initialized as HF `_init_weights` would. */
export function initParam(spec: ParamSpec, config: BertConfig, rng: Rng): Float32Array {
  const data = new Float32Array(numel(spec.shape));
  switch (spec.init) {
    case 'zeros':
      break;
    case 'ones':
      data.fill(1);
      break;
    case 'normal':
      fillNormal(rng, data, config.initializer_range);
      break;
    case 'normal_pad0': {
      fillNormal(rng, data, config.initializer_range);
      const H = spec.shape[1];
      data.fill(0, config.pad_token_id * H, (config.pad_token_id + 1) * H);
      break;
    }
  }
  return data;
}

/** Fresh parameters for a table (bert.ts paramTable), drawn in table order from `rng` (same seed → same weights). */
export function initTable(table: readonly ParamSpec[], config: BertConfig, rng: Rng): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  for (const spec of table) params.set(spec.name, initParam(spec, config, rng));
  return params;
}
