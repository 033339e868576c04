/**
 * The special token ids the training data code needs. Defaults are bert-base-uncased's (the vocabulary CompactLM
 * ships); a tokenizer with another vocabulary passes its own.
 */
export interface SpecialIds {
  pad: number;
  unk: number;
  cls: number;
  sep: number;
  mask: number;
}

export const BERT_SPECIAL_IDS: Readonly<SpecialIds> = Object.freeze({ pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 });

/** Label value that the loss ignores (PyTorch/ONNX SoftmaxCrossEntropyLoss `ignore_index`). */
export const IGNORE_INDEX = -100;
