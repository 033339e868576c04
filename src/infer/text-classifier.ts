/**
 * What every consumer of a sequence classifier (eval, infer --task classify, serve) sees: a label set in id order
 * and probabilities for texts. Implemented by `loadTextClassifier` (classifier.ts) over a fine-tuned model folder
 * (ONNX Runtime on the compiled inference graph) or an export folder (onnx/model.onnx, or the int8 one).
 */
export interface TextClassifier {
  /** id2label, in id order. */
  readonly labels: readonly string[];
  /** Softmax probabilities, one Float32Array of labels.length per text (pairs: second segments, same length). */
  predict(texts: readonly string[], pairs?: readonly string[]): Promise<Float32Array[]>;
  /** Trainable parameters of the model. */
  readonly parameters: number;
  /** Files of the model folder that hold the model, name → bytes on disk. */
  readonly files: Readonly<Record<string, number>>;
  close(): Promise<void>;
}
