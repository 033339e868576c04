/**
 * The extractive-summarization head (BertSumExt, Liu & Lapata 2019, "Text Summarization with Pretrained
 * Encoders"; its "BertSumExt w/ classifier" variant, PreSumm's `Classifier`): the document is fed as
 * `[CLS] s1 [SEP] [CLS] s2 [SEP] …` with interval segment ids, and each sentence's score is a Linear(H → 1) on the
 * last hidden state of its own [CLS] token, sigmoid(logit) = P(the sentence belongs in the summary). No pooler
 * and no masked-LM head. BertSumExt itself puts two transformer layers between the [CLS] vectors and the Linear;
 * this is the plain-Linear variant, which the earlier BERTSUM report (Liu 2019, arXiv:1903.10318) found within a
 * few tenths of a ROUGE point of it on CNN/DailyMail with BERT-base.
 *
 * Parameters: `ext_layer.linear1.weight` [1, H] and `ext_layer.linear1.bias` [1], PreSumm's names for this head.
 *
 * Training graphs gather the [CLS] rows at the fed flat positions `cls_positions` int64 [B·S] (b·T + t; S =
 * shape.maxPredictions sentence slots per sequence, unused slots point anywhere and are masked by the loss,
 * extractive-loss.ts) → logits [B·S]. Inference output `sentence_logits` [batch, sequence, 1] applies the Linear to
 * every position (a [T, H]·[H, 1] product: nothing to gather, no extra input), and a sentence's logit is the value
 * at its [CLS]; `last_hidden_state` is there for the centroid method on the same folder.
 */
import { UserError } from '../../util/errors.js';
import type { BertForMaskedLM } from '../bert.js';
import { EXTRACTIVE_SUMMARIZATION } from '../config.js';
import type { Value } from '../../onnx/graph.js';
import type { Head } from '../step-compiler.js';

/** Prefix of the sentence classifier's Linear (PreSumm's ExtSummarizer.ext_layer.linear1). */
export const EXT_LAYER = 'ext_layer.linear1';

/** The sentence classifier on rows [N, H] → logits [N, 1]. */
export function sentenceLogits(bert: BertForMaskedLM, rows: Value): Value {
  return bert.linear(rows, EXT_LAYER, 1);
}

/** Outputs a masked LM has and this folder does not: one line instead of a missing-output error deep in the compiler. */
const noMaskedLm = (): never => {
  throw new UserError(`a ${EXTRACTIVE_SUMMARIZATION} folder (from \`compactlm finetune --task extractive\`) has no masked-LM logits: ` +
    'fill-mask and `compactlm export` need a masked LM or a classifier; summarize with the folder itself (--method trained)');
};

export const extractiveHead: Head = {
  name: 'extractive',
  scored(g, bert, shape) {
    const positions = g.input('cls_positions', 'int64', [shape.batchSize * shape.maxPredictions]); // flat b·T + t
    return g.reshape(sentenceLogits(bert, g.gather(bert.encode(), positions)), [-1]); // [B·S]
  },
  outputs: {
    sentence_logits: (bert, rows) => bert.unflattenRows(sentenceLogits(bert, rows)), // [batch, sequence, 1]
    last_hidden_state: (bert, rows) => bert.unflattenRows(rows), // [batch, sequence, H]
    logits: noMaskedLm,
    masked_logits: noMaskedLm,
  },
  defaultOutputs: ['sentence_logits'],
  evalLogits: true,
};
