/**
 * Which head a model folder's config.json describes, and so which parameters its model.safetensors holds:
 * BertForMaskedLM (the masked-LM head, tied decoder), BertForSequenceClassification (pooler + classifier) or
 * BertForExtractiveSummarization (a sentence classifier on the [CLS] rows, heads/extractive.ts).
 */
import { paramTable } from './bert.js';
import { classifierLabels, isClassifier, isExtractive, type BertConfig } from './config.js';
import { classifierHead } from './heads/classifier.js';
import { extractiveHead } from './heads/extractive.js';
import { mlmHead } from './heads/mlm.js';
import type { ParamSpec } from './params.js';
import type { Head } from './step-compiler.js';

export function headFor(config: BertConfig): Head {
  if (isExtractive(config)) return extractiveHead;
  return isClassifier(config) ? classifierHead(classifierLabels(config).length) : mlmHead;
}

/** The parameters of the folder's model (encoder + its head), in HF state_dict order. */
export function modelTable(config: BertConfig): ParamSpec[] {
  const head = headFor(config);
  return paramTable(config, (g, bert) => head.scored(g, bert, { batchSize: 1, seqLen: 1, maxPredictions: 1 }));
}
