/**
 * The sequence-classification head (HF `BertForSequenceClassification`): pooler on the [CLS] row, dropout, Linear
 * to `numLabels` logits. What `finetune` and `distill --task classify` train and `infer --task classify` runs.
 * Its logits are one small row per sequence, so eval graphs output them too (macro-F1 on the validation set).
 */
import type { Head } from '../step-compiler.js';

export function classifierHead(numLabels: number): Head {
  if (!(Number.isInteger(numLabels) && numLabels >= 2)) throw new Error(`classifier head: numLabels must be an integer ≥ 2, got ${numLabels}`);
  const logits: Head['outputs'][string] = (bert, rows) => bert.classifierLogits(bert.pooler(bert.clsRows(rows)), numLabels);
  return {
    name: 'classifier',
    scored: (_g, bert) => logits(bert, bert.encode()), // [B, numLabels]
    outputs: { logits, last_hidden_state: (bert, rows) => bert.unflattenRows(rows) }, // [batch, labels]; [batch, sequence, H]
    defaultOutputs: ['logits'],
    evalLogits: true,
  };
}
