/**
 * The masked-LM head (HF `BertOnlyMLMHead`, tied decoder): what `pretrain` and `distill` train and `infer
 * --task fill-mask` runs. In training graphs it projects only the gathered masked rows onto the vocabulary (the
 * [B·T, V] product is the biggest matrix multiply of a small model; the loss looks at [num_masked ≤ B·M, V] only).
 *
 * Inference outputs: `logits` [batch, sequence, V] (what transformers.js and Optimum expect of an export),
 * `masked_logits` [num_masked, V] at the rows an extra input `masked_positions` [num_masked] names (flat b·T + t:
 * what fill-mask needs, without the vocabulary projection of every other position), `last_hidden_state`.
 */
import type { Head } from '../step-compiler.js';

/** The symbolic row count of masked-LM training inputs (masked_positions, masked_labels, teacher_logits). */
export const MASKED_SLOTS = 'num_masked';

export const mlmHead: Head = {
  name: 'mlm',
  scoredRows: MASKED_SLOTS,
  scored(g, bert, shape) {
    // flat b·T + t; B·M slots at most, fewer when the batch source packs only the scored ones (MASKED_SLOTS)
    const positions = g.input('masked_positions', 'int64', [shape.batchSize * shape.maxPredictions], { dims: [MASKED_SLOTS] });
    return bert.mlmLogits(g.gather(bert.encode(), positions)); // [num_masked, V]
  },
  outputs: {
    logits: (bert, rows) => bert.unflattenRows(bert.mlmLogits(rows)), // [batch, sequence, V]
    masked_logits: (bert, rows) => {
      const positions = bert.g.input('masked_positions', 'int64', [2], { dims: [MASKED_SLOTS] });
      return bert.mlmLogits(bert.g.gather(rows, positions)); // [num_masked, V]
    },
    last_hidden_state: (bert, rows) => bert.unflattenRows(rows), // [batch, sequence, H]
  },
  defaultOutputs: ['logits'],
};
