/**
 * A fine-tuned classifier for inference (`infer --task classify`, `eval`, `serve`), over a model folder from
 * `finetune` / `distill --task classify` or its export folder (fp32, or int8 with `int8`):
 *
 *   const clf = await loadTextClassifier('runs/sentiment');
 *   const [p] = await clf.predict(['what a lovely film']);   // softmax probabilities in id2label order
 *   await clf.classify('what a lovely film');                 // {text, label, score, scores: {label: p}}
 *
 * Texts are encoded as in training ([CLS] text [SEP] [pair [SEP]], truncated to maxLength with [SEP] kept —
 * default 512, what transformers.js's text-classification pipeline truncates to) and run in right-padded batches
 * (one text per run for int8; encoder-model.ts says why).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { classifierLabels } from '../model/config.js';
import { WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import { ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE } from '../export/export-folder.js';
import { modelTable } from '../model/architecture.js';
import { numel } from '../model/params.js';
import type { SessionConfig } from '../runtime/session.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { argmax } from '../eval/classification-metrics.js';
import { warnTruncated, type BatchTask, type Encoded } from './batches.js';
import { EncoderModel, isExportFolder } from './encoder-model.js';
import { softmax } from './fill-mask.js';
import type { TextClassifier } from './text-classifier.js';

export interface ClassifierLoadOptions extends SessionConfig {
  int8?: boolean;
  /** Tokens per text, [CLS]/[SEP] included (default 512). */
  maxLength?: number;
  /** Texts per run (fp32; int8 runs one). */
  batchSize?: number;
}

/** One text's classification, as `infer --task classify` prints it. */
export interface Classification {
  text: string;
  label: string;
  score: number;
  scores: Record<string, number>;
}

export async function loadTextClassifier(dir: string, o: ClassifierLoadOptions = {}): Promise<Classifier> {
  return Classifier.load(dir, o);
}

export class Classifier implements TextClassifier {
  readonly labels: readonly string[];
  readonly parameters: number;
  private readonly maxLength: number;
  private readonly batchSize: number;

  private constructor(private readonly model: EncoderModel, readonly files: Readonly<Record<string, number>>, o: ClassifierLoadOptions) {
    this.labels = classifierLabels(model.config);
    this.parameters = modelTable(model.config).reduce((n, p) => n + numel(p.shape), 0);
    this.maxLength = Math.min(o.maxLength ?? MODEL_MAX_LENGTH, model.maxLength);
    this.batchSize = Math.min(o.batchSize ?? 32, model.maxBatch);
  }

  static async load(dir: string, o: ClassifierLoadOptions = {}): Promise<Classifier> {
    const model = await EncoderModel.load(dir, { output: 'logits', classifier: true, int8: o.int8, device: o.device, threads: o.threads });
    const names = isExportFolder(dir) ? [o.int8 ? ONNX_QUANTIZED_FILE : ONNX_MODEL_FILE] : [WEIGHTS_FILE];
    return new Classifier(model, Object.fromEntries(names.map((f) => [f, statSync(join(dir, f)).size])), o);
  }

  /** Probabilities of each text (pairs: second segments), in batches. */
  async predict(texts: readonly string[], pairs?: readonly string[]): Promise<Float32Array[]> {
    const enc = texts.map((t, i) => this.model.tokenizer.encode(t, pairs ? pairs[i] : null, this.maxLength));
    const out: Float32Array[] = [];
    for (let start = 0; start < enc.length; start += this.batchSize) {
      const part = enc.slice(start, start + this.batchSize);
      out.push(...(await this.run(part.map((e) => e.input_ids), part.map((e) => e.token_type_ids))));
    }
    return out;
  }

  async classify(text: string): Promise<Classification> {
    const task = this.task();
    const enc = task.encode(text);
    if (enc.truncated) warnTruncated(task.maxLength);
    return (await task.runBatch([enc]))[0];
  }

  /** The batch task for inferBatches (`infer --task classify --input …`). */
  task(): BatchTask<Classification> {
    const { tokenizer, maxBatch } = this.model;
    const maxLength = this.maxLength;
    return {
      maxLength,
      maxBatch,
      maxBatchTokens: 65536,
      encode(text: string): Encoded {
        const enc = tokenizer.encode(text, null, maxLength);
        return { text, ids: enc.input_ids, tokens: enc.tokens, truncated: enc.truncated };
      },
      runBatch: async (batch) => (await this.run(batch.map((e) => e.ids))).map((p, i) => classification(this.labels, batch[i].text, p)),
    };
  }

  private async run(rows: number[][], typeRows?: number[][]): Promise<Float32Array[]> {
    const C = this.labels.length;
    const { data } = await this.model.run(rows, typeRows);
    return rows.map((_, r) => Float32Array.from(softmax(data.subarray(r * C, (r + 1) * C))));
  }

  close(): Promise<void> {
    return this.model.close();
  }
}

export function classification(labels: readonly string[], text: string, probs: Float32Array): Classification {
  const best = argmax(probs);
  return { text, label: labels[best], score: probs[best], scores: Object.fromEntries(labels.map((l, i) => [l, probs[i]])) };
}
