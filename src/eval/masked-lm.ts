/**
 * Masked-LM quality of a model folder on a text set: the metrics of the model cards (and of `compactlm eval` for
 * masked LMs). The text is packed into blocks of `seqLen` as for training, masked once with a fixed seed
 * (15%; 80/10/10), and scored at the masked positions:
 *
 *   val_loss     mean cross-entropy over the masked tokens (nats)      val_ppl = exp(val_loss)
 *   val_mlm_acc  share of masked tokens whose label has the top logit  tokens  = masked tokens scored
 *
 * Same seed, text and seqLen → the same masked tokens, so numbers from different models compare directly.
 */
import { evaluateMaskedLm, type MlmMetrics } from '../distill/report.js';
import { weightsMaskedLogits } from '../distill/teacher.js';
import { loadModelFolder } from '../model/checkpoint-folder.js';
import { loadBlocks } from '../train/data-source.js';
import { defaultMaxPredictions } from '../train/masking.js';
import { fixedEvalFeeds } from '../train/mlm-batches.js';

export interface MaskedLmEvalOptions {
  seqLen?: number;
  batchSize?: number;
  seed?: number;
  textColumn?: string;
  threads?: number;
}

export interface MaskedLmEval extends MlmMetrics {
  blocks: number;
  seq_len: number;
  seed: number;
}

export async function evaluateMaskedLmFolder(modelDir: string, text: string, o: MaskedLmEvalOptions = {}): Promise<MaskedLmEval> {
  const seqLen = o.seqLen ?? 128;
  const batchSize = o.batchSize ?? 32;
  const seed = o.seed ?? 0;
  const { config, params } = await loadModelFolder(modelDir);
  const { data } = await loadBlocks(text, { seqLen, textColumn: o.textColumn });
  const shape = { batchSize, seqLen, maxPredictions: defaultMaxPredictions(seqLen) };
  const feeds = fixedEvalFeeds(data, { ...shape, vocabSize: config.vocab_size, seed });
  const model = await weightsMaskedLogits(config, params, shape, { threads: o.threads });
  try {
    return { ...(await evaluateMaskedLm(model, feeds, config.vocab_size)), blocks: data.length, seq_len: seqLen, seed };
  } finally {
    await model.release();
  }
}
