/**
 * The BERT encoder behind every `infer` task, from either kind of folder:
 *
 *   const m = await EncoderModel.load('runs/mini', { output: 'logits' });            // model folder
 *   const m = await EncoderModel.load('runs/mini-export', { output: 'logits', int8: true });  // export folder
 *   const { data, T } = await m.run([[101, 7592, 102], [101, 103, 2003, 102]]);     // data: [B, T, width]
 *
 * - Model folder (config.json + model.safetensors): the inference graph of model/step-compiler.ts,
 *   weights as initializers, with the one output asked for (`logits` [B,T,V], `masked_logits` [N,V] at the flat
 *   positions b·T + t given as `masked_positions`, or `last_hidden_state` [B,T,H]).
 * - Export folder (has onnx/model.onnx): that file on onnxruntime-node directly (fp32), or with `int8`
 *   onnx/model_quantized.onnx. Its dynamic-quantized activations take one scale per tensor over the whole batch,
 *   padding included, so a text's int8 results would depend on its batch mates: `maxBatch` is 1 for int8 (as the
 *   export's own check runs it).
 *
 * A batch is padded on the right to its longest row with [PAD] and attention_mask 0 (token_type_ids 0): padded keys
 * get finfo.min in the attention scores, so each row's outputs equal its unpadded ones up to float rounding.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FILL_MASK_FILE, FILL_MASK_QUANTIZED_FILE, ONNX_MODEL_FILE, ONNX_QUANTIZED_FILE } from '../export/export-folder.js';
import { compileStep } from '../model/step-compiler.js';

/**
 * The outputs an encoder model can give: MLM (or class) logits, MLM logits at the masked rows only (model folders;
 * fed `masked_positions`), or the last hidden state.
 */
export type EncoderOutput = 'logits' | 'masked_logits' | 'last_hidden_state';
import { CONFIG_FILE, loadModelFolder, WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import { headFor } from '../model/architecture.js';
import { classifierLabels, isClassifier, loadConfig, MASKED_LM, SEQUENCE_CLASSIFICATION, type BertConfig } from '../model/config.js';
import { cachedGraph, storeGraph } from '../runtime/graph-cache.js';
import { threadSession, workerSession, type InferenceSession } from '../runtime/inference-session.js';
import type { SessionConfig } from '../runtime/session.js';
import { i64, type WireFeeds } from '../runtime/wire.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/tokenizer.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { UserError } from '../util/errors.js';
import { refuseUnfinished } from '../util/output-manifest.js';

export interface EncoderLoadOptions extends SessionConfig {
  output: EncoderOutput;
  /** The folder must be a fine-tuned classifier (logits [B, labels]); otherwise it must be a masked LM for logits. */
  classifier?: boolean;
  /** Export folders only: run onnx/model_quantized.onnx instead of onnx/model.onnx. */
  int8?: boolean;
}

export type EncoderSource = 'model folder' | 'export fp32' | 'export int8';

/** True when `dir` is an export folder (it has onnx/model.onnx). */
export function isExportFolder(dir: string): boolean {
  return existsSync(join(dir, ONNX_MODEL_FILE));
}

/** True when an export folder has the fill-mask task graph (masked_logits) for this precision. */
export function hasFillMaskGraph(dir: string, int8 = false): boolean {
  return existsSync(exportFile(dir, { output: 'masked_logits', int8 }));
}

/** The export's ONNX file for an output: the fill-mask task graph for masked_logits, else the full model. */
function exportFile(dir: string, o: Pick<EncoderLoadOptions, 'output' | 'int8'>): string {
  if (o.output === 'masked_logits') return join(dir, o.int8 ? FILL_MASK_QUANTIZED_FILE : FILL_MASK_FILE);
  return join(dir, o.int8 ? ONNX_QUANTIZED_FILE : ONNX_MODEL_FILE);
}

export class EncoderModel {
  private constructor(
    readonly config: BertConfig,
    readonly tokenizer: Tokenizer,
    private readonly session: InferenceSession,
    readonly output: EncoderOutput,
    readonly source: EncoderSource,
  ) {}

  /** Width of the output's last dim: V for MLM logits, the label count for a classifier's, H for last_hidden_state. */
  get width(): number {
    if (this.output === 'last_hidden_state') return this.config.hidden_size;
    return isClassifier(this.config) ? classifierLabels(this.config).length : this.config.vocab_size;
  }

  /** Rows per run: 1 for int8 (see the file comment), otherwise unbounded. */
  get maxBatch(): number {
    return this.source === 'export int8' ? 1 : Infinity;
  }

  /** Longest encoded text, [CLS] and [SEP] included. */
  get maxLength(): number {
    return Math.min(MODEL_MAX_LENGTH, this.config.max_position_embeddings);
  }

  static async load(dir: string, o: EncoderLoadOptions): Promise<EncoderModel> {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) throw new UserError(`${dir}: model folder not found`);
    const session: SessionConfig = { device: o.device, threads: o.threads, prepack: o.prepack };
    if (!isExportFolder(dir)) {
      if (o.int8) {
        throw new UserError(`--int8 needs an export folder (onnx/model_quantized.onnx) but ${dir} is a model folder: ` +
          `run \`compactlm export ${dir} --out <export-dir>\` and pass --model <export-dir>`);
      }
      return new EncoderModel(...await modelFolderSession(dir, o, session), o.output, 'model folder');
    }
    const file = exportFile(dir, o);
    if (!existsSync(file)) {
      throw new UserError(o.output === 'masked_logits'
        ? `${file}: not found (the export was written with --no-task-graphs)`
        : `${file}: not found (the export was written with --quantize none): re-export with --quantize int8, or drop --int8`);
    }
    const config = await loadConfig(join(dir, CONFIG_FILE));
    checkArchitecture(dir, config, o);
    const tokenizer = await folderTokenizer(dir, config);
    const s = await threadSession(file, session); // full-vocabulary logits: not copied across threads
    if (!s.outputNames.includes(o.output)) {
      await s.release();
      throw new UserError(o.output === 'last_hidden_state'
        ? `${file}: has only the output(s) ${s.outputNames.join(', ')}, and --task embed needs last_hidden_state: run embed on the model folder the export came from`
        : `${file}: has no output ${o.output} (it has ${s.outputNames.join(', ')})`);
    }
    return new EncoderModel(config, tokenizer, s, o.output, o.int8 ? 'export int8' : 'export fp32');
  }

  /**
   * Runs token-id rows (each [CLS] … [SEP]) as one right-padded batch → the output, [B, T, width] row-major.
   * `typeRows`: token type ids of each row (sentence pairs: 1 on the second segment); default all 0.
   * `maskedPositions` (output masked_logits): the flat positions b·T + t to score, T being the longest row.
   */
  async run(rows: readonly (readonly number[])[], typeRows?: readonly (readonly number[])[], maskedPositions?: readonly number[]): Promise<{ data: Float32Array; T: number }> {
    if (rows.length === 0) return { data: new Float32Array(0), T: 0 };
    if (rows.length > this.maxBatch) throw new Error(`EncoderModel.run: ${rows.length} rows > maxBatch ${this.maxBatch}`);
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(B * T).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(B * T);
    const types = new BigInt64Array(B * T);
    rows.forEach((r, b) => r.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      mask[b * T + t] = 1n;
      if (typeRows) types[b * T + t] = BigInt(typeRows[b][t]);
    }));
    const all: WireFeeds = {
      input_ids: i64(ids, [B, T]),
      attention_mask: i64(mask, [B, T]),
      token_type_ids: i64(types, [B, T]),
      ...(maskedPositions ? { masked_positions: i64(BigInt64Array.from(maskedPositions, BigInt), [maskedPositions.length]) } : {}),
    };
    // Feed what the graph declares: exports made elsewhere may have no token_type_ids input.
    const feeds = Object.fromEntries(this.session.inputNames.map((n) => {
      if (!all[n]) throw new UserError(`the model has an input ${n} that a BERT encoder does not take`);
      return [n, all[n]];
    }));
    const out = await this.session.run(feeds, this.output);
    return { data: out.data as Float32Array, T };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * A model folder's inference graph with the one output asked for: from the graph cache when this folder and this
 * compiler made it before (runtime/graph-cache.ts), else compiled from the weights and cached. Its outputs are
 * small (masked rows, hidden states, class logits), so it runs in a worker, and the tokenizer loads while ORT
 * builds the session.
 */
async function modelFolderSession(dir: string, o: EncoderLoadOptions, session: SessionConfig): Promise<[BertConfig, Tokenizer, InferenceSession]> {
  const key = { dir, output: o.output };
  const cached = existsSync(join(dir, CONFIG_FILE)) && existsSync(join(dir, WEIGHTS_FILE)) ? await cachedGraph(key) : null;
  if (cached) {
    refuseUnfinished(dir); // loadModelFolder checks it on the other path
    const config = await loadConfig(join(dir, CONFIG_FILE));
    checkArchitecture(dir, config, o);
    return [config, ...await loadBoth(folderTokenizer(dir, config), workerSession(cached, session))];
  }
  const { config, params } = await loadModelFolder(dir);
  checkArchitecture(dir, config, o);
  const spec = compileStep({ kind: 'inference', config, head: headFor(config), weights: params, outputs: [o.output] });
  if (existsSync(join(dir, WEIGHTS_FILE))) await storeGraph(key, spec.bytes);
  return [config, ...await loadBoth(folderTokenizer(dir, config), workerSession(spec.bytes, session))];
}

/** Both, or the first error with the session released (a failed tokenizer must not leave a worker running). */
async function loadBoth(tokenizer: Promise<Tokenizer>, session: Promise<InferenceSession>): Promise<[Tokenizer, InferenceSession]> {
  const [t, s] = await Promise.allSettled([tokenizer, session]);
  if (t.status === 'fulfilled' && s.status === 'fulfilled') return [t.value, s.value];
  if (s.status === 'fulfilled') await s.value.release();
  throw t.status === 'rejected' ? t.reason : (s as PromiseRejectedResult).reason;
}

/** A classifier folder gives class logits, a masked LM token logits: each task needs its kind (one line if not). */
function checkArchitecture(dir: string, config: BertConfig, o: EncoderLoadOptions): void {
  const arch = config.architectures[0] ?? MASKED_LM;
  if (o.classifier && !isClassifier(config)) {
    throw new UserError(`${dir}: is a ${arch}, not a fine-tuned classifier: --task classify needs a folder from \`compactlm finetune\` (or its export)`);
  }
  if (!o.classifier && o.output !== 'last_hidden_state' && isClassifier(config)) {
    throw new UserError(`${dir}: is a ${SEQUENCE_CLASSIFICATION} (labels ${classifierLabels(config).join(', ')}), not a masked LM: fill-mask needs a pretrained model; use --task classify`);
  }
}

/** A folder's own tokenizer when it has one, else CompactLM's (the only vocabulary its models use). */
export async function folderTokenizer(dir: string, config: BertConfig): Promise<Tokenizer> {
  const tokenizer = await loadTokenizer(existsSync(join(dir, 'tokenizer.json')) ? dir : undefined);
  if (tokenizer.vocabSize !== config.vocab_size) {
    throw new UserError(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocab_size}`);
  }
  return tokenizer;
}
