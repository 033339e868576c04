/** A tiny BERT model folder for export tests: H=32, one layer, the real 30,522-token vocabulary and tokenizer. */
import { makeConfig, type BertConfig } from '../../../src/model/config.js';
import { WORD_EMBEDDINGS } from '../../../src/model/params.js';
import { initParams } from '../../../src/model/bert.js';
import { saveModelFolder } from '../../../src/model/checkpoint-folder.js';
import { writeTokenizerFiles } from '../../../src/tokenizer/tokenizer-json.js';
import { Rng } from '../../../src/util/rng.js';

export const TINY = { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 };

/**
 * Random-init weights; `peaked` scales the (tied) word embeddings ×50 so the MLM logits spread over ~±20 and the
 * top tokens are well separated, as in a trained model (random-init BERT gives near-uniform fill-mask scores).
 */
export async function tinyModel(dir: string, opts: { seed?: number; peaked?: boolean } = {}): Promise<{ config: BertConfig; params: Map<string, Float32Array> }> {
  const config = makeConfig('tiny', TINY);
  const params = initParams(config, new Rng(opts.seed ?? 1));
  if (opts.peaked) params.get(WORD_EMBEDDINGS)!.forEach((v, i, a) => (a[i] = v * 50));
  await saveModelFolder(dir, config, params, { writeExtraFiles: writeTokenizerFiles });
  return { config, params };
}
