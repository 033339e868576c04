/**
 * Many texts through one task, in batches, results in input order:
 *
 *   for await (const r of inferBatches(fillMask, readInputFile('texts.jsonl'), 'texts.jsonl', { batchSize: 32 })) …
 *
 * Each text is encoded (and checked) as it arrives, so a bad line fails before its batch runs, naming `file:line`;
 * results of earlier windows have been yielded by then. Texts are read in windows of WINDOW_BATCHES batches; within
 * a window they are sorted by length, so each batch pads to a length close to its texts' own (memory stays bounded
 * by the window), and the results are yielded in input order. A batch closes at `batchSize` texts, at the task's
 * `maxBatch` (1 for int8 exports) or when one more text would pass the task's padded-token budget (fill-mask
 * returns V logits per token: 32 × 512 tokens would be 2 GB of logits for bert-base's vocabulary).
 */
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { InputText } from './input-texts.js';

/** A text encoded as `[CLS] … [SEP]`, truncated to the model's length keeping [SEP]. */
export interface Encoded {
  text: string;
  ids: number[];
  tokens: string[];
  truncated: boolean;
}

/** What a task (fill-mask, embed) gives the batch runner. */
export interface BatchTask<R> {
  /** Most encoded tokens (with [CLS]/[SEP]); longer texts are truncated. */
  readonly maxLength: number;
  /** Most texts per run (1 for int8 exports). */
  readonly maxBatch: number;
  /** Most padded tokens (rows × longest row) per run. */
  readonly maxBatchTokens: number;
  /** Encodes and checks one text; `where` (e.g. "texts.txt:3") prefixes errors. */
  encode(text: string, where?: string): Encoded;
  /** Results of encoded texts run as one padded batch, in order. */
  runBatch(batch: readonly Encoded[]): Promise<R[]>;
}

export interface BatchOptions {
  batchSize?: number;
}

export const DEFAULT_BATCH_SIZE = 32;

/** Batches per sorting window. */
export const WINDOW_BATCHES = 8;

export async function* inferBatches<R>(task: BatchTask<R>, inputs: AsyncIterable<InputText>, source: string,
  o: BatchOptions = {}): AsyncGenerator<R> {
  const size = Math.min(o.batchSize ?? DEFAULT_BATCH_SIZE, task.maxBatch);
  if (!(size >= 1)) throw new Error(`inferBatches: batch size ${size}`);
  const windowSize = size === 1 ? 1 : size * WINDOW_BATCHES;
  let window: Encoded[] = [];
  for await (const { line, text } of inputs) {
    const where = `${source}:${line}`;
    const enc = task.encode(text, where);
    if (enc.truncated) warnTruncated(task.maxLength, where);
    window.push(enc);
    if (window.length >= windowSize) {
      yield* await runWindow(task, window, size);
      window = [];
    }
  }
  if (window.length > 0) yield* await runWindow(task, window, size);
}

/** Runs a window of texts sorted by length in batches of at most `size` texts and the task's token budget. */
async function runWindow<R>(task: BatchTask<R>, window: readonly Encoded[], size: number): Promise<R[]> {
  const order = window.map((_, i) => i).sort((a, b) => window[a].ids.length - window[b].ids.length || a - b);
  const results: R[] = new Array(window.length);
  let batch: number[] = [];
  const flush = async () => {
    const out = await task.runBatch(batch.map((i) => window[i]));
    batch.forEach((i, k) => (results[i] = out[k]));
    batch = [];
  };
  for (const i of order) {
    const T = window[i].ids.length; // the longest so far: ascending order
    if (batch.length > 0 && (batch.length >= size || (batch.length + 1) * T > task.maxBatchTokens)) await flush();
    batch.push(i);
  }
  if (batch.length > 0) await flush();
  return results;
}

/** The warning for a text cut to the model's length. `where` names the line, or is undefined for a single text. */
export function warnTruncated(maxLength: number, where?: string): void {
  const prefix = where === undefined ? 'the text' : `${where}: the text`;
  log().warn(`${prefix} is longer than ${maxLength} tokens: only the first ${maxLength - 2} were used ([SEP] kept)`);
}

/** A one-line UserError, prefixed with `where` (file:line of batch input) when there is one. */
export function problemAt(where: string | undefined, problem: string): UserError {
  return new UserError(where === undefined ? problem : `${where}: ${problem}`);
}
