/**
 * `compactlm export`: a model folder → an export folder in the layout transformers.js and Optimum use:
 *
 *   <out>/config.json  tokenizer.json  tokenizer_config.json  vocab.txt  special_tokens_map.json
 *        onnx/model.onnx             fp32, weights as initializers            (transformers.js `quantized: false`)
 *        onnx/model_quantized.onnx   int8 weights, dynamic activations        (transformers.js `quantized: true`)
 *        onnx/fill_mask.onnx, onnx/fill_mask_quantized.onnx   masked LMs: the same model with the vocabulary
 *                                    projection only at the rows `masked_positions` names (what `infer` runs)
 *        export.json                 what was checked: opset, sizes, fp32 Δlogit and Δhidden, int8 agreement
 *
 * Both models: inputs input_ids, attention_mask, token_type_ids (int64 [batch_size, sequence_length]), outputs
 * logits (float32 [batch_size, sequence_length, vocab]) and then last_hidden_state (float32 [batch_size,
 * sequence_length, hidden], the encoder output before the MLM head, for `infer --task embed`); logits comes first
 * because transformers.js's fill-mask reads it by name and other tools take output 0. The default opset 17 with IR version 8 loads in
 * onnxruntime-node 1.30 and in the onnxruntime-node 1.14 bundled with @xenova/transformers 2.17.2 (which reads
 * IR ≤ 8 and opset ≤ 18): GELU is the erf composite, LayerNormalization is opset 17's.
 *
 * Everything is written into a temporary sibling folder, checked (verify.ts), and renamed into place at the end,
 * so an error never leaves a partial export.
 *
 * A classifier folder (BertForSequenceClassification, from `finetune`) exports the same way with one output,
 * logits [batch_size, num_labels] (what transformers.js's text-classification pipeline reads), checked by
 * verify-classifier.ts: fp32 against the training graph, int8 label agreement with fp32.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkOutputDir } from '../data/csv.js';
import { commitFolder, tempSibling } from '../util/atomic.js';
import { checkOutputFolder, checkReplaceable, writeManifest } from '../util/output-manifest.js';
import { compileStep } from '../model/step-compiler.js';
import { loadModelFolder, CONFIG_FILE } from '../model/checkpoint-folder.js';
import { headFor } from '../model/architecture.js';
import { configToJson, isClassifier } from '../model/config.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { TOKENIZER_FILES, writeTokenizerFiles } from '../tokenizer/tokenizer-json.js';
import { SPECIAL_TOKENS } from '../tokenizer/vocab.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { quantizeGraph, type QuantizedTensorInfo } from './quantize.js';
import { BUILTIN_VAL, loadValTexts, maskSample, verifyExport, type Verification } from './verify.js';
import { verifyClassifierExport, type ClassifierVerification } from './verify-classifier.js';
import { verifyFillMaskGraphs, type TaskGraphVerification } from './verify-task-graph.js';

export const ONNX_MODEL_FILE = 'onnx/model.onnx';
export const ONNX_QUANTIZED_FILE = 'onnx/model_quantized.onnx';
/** Masked LMs: the fill-mask task graphs (logits only at the `masked_positions` rows), fp32 and int8. */
export const FILL_MASK_FILE = 'onnx/fill_mask.onnx';
export const FILL_MASK_QUANTIZED_FILE = 'onnx/fill_mask_quantized.onnx';
export const EXPORT_REPORT = 'export.json';
/** Sentences of the check sample the task graphs are compared on (one run each per graph). */
const TASK_GRAPH_CHECK_SENTENCES = 40;
export const QUANTIZE_MODES = ['int8', 'none'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** Opset 17 is the lowest with LayerNormalization; 18 is the highest transformers.js 2.17.2's ORT 1.14 reads. */
export const MIN_OPSET = 17;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;
export const TRANSFORMERS_JS_MAX_OPSET = 18;

/** ONNX IR version for an opset: the lowest that allows it (IR 8 ↔ ONNX 1.13/opset 18; ORT 1.14 reads ≤ 8). */
export function irVersionFor(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

export function checkOpset(opset: number): void {
  if (!Number.isInteger(opset)) throw new UserError(`opset ${opset}: must be a whole number`);
  if (opset < MIN_OPSET) {
    throw new UserError(`opset ${opset} is too low: the export uses LayerNormalization, which needs opset ${MIN_OPSET} or higher`);
  }
  if (opset > MAX_OPSET) throw new UserError(`opset ${opset} is too high: CompactLM's graph builder writes opsets ${MIN_OPSET}–${MAX_OPSET}`);
}

export interface ExportOptions {
  modelDir: string;
  outDir: string;
  quantize?: QuantizeMode;
  opset?: number;
  /** Replace an existing non-empty output folder. */
  overwrite?: boolean;
  /** Validation CSV and its text column (default: CompactLM's datasets/sentiment.csv, column text). */
  val?: string;
  textColumn?: string;
  /** Sentences drawn from the validation CSV (default 200), tokens per sentence (default 128). */
  samples?: number;
  maxLength?: number;
  seed?: number;
  threads?: number;
  /** Fail when int8 top-1 agreement is below this (default 0: report only, warn below 0.99). */
  minAgreement?: number;
  /** Masked LMs: also write the fill-mask task graphs (default true; they double the folder's size). */
  taskGraphs?: boolean;
  /** Progress of the checks: sentences done of total. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportFile {
  path: string;
  bytes: number;
}

export interface ExportSummary {
  outDir: string;
  opset: number;
  irVersion: number;
  quantize: QuantizeMode;
  files: ExportFile[];
  /** onnx/model_quantized.onnx bytes / onnx/model.onnx bytes. */
  sizeRatio?: number;
  verification: Verification | ClassifierVerification;
  /** The fill-mask task graphs' check, when they were written. */
  taskGraphs?: TaskGraphVerification;
  /** Scheme and the int8 initializers written (per-output-channel symmetric weights). */
  quantization?: { weights: 'int8 symmetric per output channel'; activations: 'uint8 asymmetric per tensor, dynamic'; tensors: QuantizedTensorInfo[] };
}

/** Writes and verifies an export folder; see the file comment. Returns what export.json records. */
export async function exportModel(o: ExportOptions): Promise<ExportSummary> {
  const mode = o.quantize ?? 'int8';
  if (!(QUANTIZE_MODES as readonly string[]).includes(mode)) throw new UserError(`quantization ${mode}: choose int8 or none`);
  const opset = o.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  if (opset > TRANSFORMERS_JS_MAX_OPSET) {
    log().warn(`opset ${opset}: @xenova/transformers 2.x (onnxruntime-node 1.14) reads opset ≤ ${TRANSFORMERS_JS_MAX_OPSET} only; onnxruntime-node 1.30 reads it`);
  }
  const irVersion = irVersionFor(opset);
  const outDir = resolve(o.outDir);
  await checkOutputTarget(outDir, !!o.overwrite);

  const { config, params } = await loadModelFolder(o.modelDir);
  const valFile = o.val ?? BUILTIN_VAL;
  const texts = await loadValTexts(valFile, o.textColumn ?? 'text', o.samples ?? 200, o.seed ?? 42);

  const tmp = tempSibling(outDir);
  try {
    await fsp.mkdir(join(tmp, 'onnx'), { recursive: true });
    await fsp.writeFile(join(tmp, CONFIG_FILE), configToJson(config));
    await writeTokenizer(o.modelDir, tmp);
    const tok = await loadTokenizer(tmp);
    if (tok.vocabSize !== config.vocab_size) {
      throw new UserError(`${o.modelDir}: config.json vocab_size ${config.vocab_size} does not match the tokenizer's ${tok.vocabSize} tokens`);
    }

    // The same model definition as the training graphs; only the opset (and so the GELU form) suits the runtimes.
    const classifier = isClassifier(config);
    const outputs = classifier ? ['logits'] : ['logits', 'last_hidden_state'];
    const fp32 = compileStep({ kind: 'inference', config, head: headFor(config), weights: params, outputs, opset, irVersion });
    const g = fp32.graph;
    await fsp.writeFile(join(tmp, ONNX_MODEL_FILE), fp32.bytes);
    let quantization: ExportSummary['quantization'];
    if (mode === 'int8') {
      const q = quantizeGraph(g, params);
      await fsp.writeFile(join(tmp, ONNX_QUANTIZED_FILE), q.graph.toBytes({ weights: q.weights, irVersion }));
      quantization = { weights: 'int8 symmetric per output channel', activations: 'uint8 asymmetric per tensor, dynamic', tensors: q.tensors };
    }
    const taskGraphs = !classifier && (o.taskGraphs ?? true);
    if (taskGraphs) {
      const fm = compileStep({ kind: 'inference', config, head: headFor(config), weights: params, outputs: ['masked_logits'], opset, irVersion });
      await fsp.writeFile(join(tmp, FILL_MASK_FILE), fm.bytes);
      if (mode === 'int8') {
        const q = quantizeGraph(fm.graph, params);
        await fsp.writeFile(join(tmp, FILL_MASK_QUANTIZED_FILE), q.graph.toBytes({ weights: q.weights, irVersion }));
      }
    }

    log().info({ sentences: texts.length, val: valFile }, 'export: checking fp32 against the training graph and int8 against fp32');
    const check = {
      config, params, threads: o.threads, onProgress: o.onProgress,
      fp32Path: join(tmp, ONNX_MODEL_FILE),
      int8Path: mode === 'int8' ? join(tmp, ONNX_QUANTIZED_FILE) : undefined,
    };
    const verification = classifier
      ? await verifyClassifierExport({ ...check, rows: texts.map((t) => tok.encode(t, null, o.maxLength ?? 128).input_ids) })
      : await verifyExport({ ...check, sample: maskSample(tok, texts, o.maxLength ?? 128, o.seed ?? 42) });
    const taskCheck = taskGraphs
      ? await verifyFillMaskGraphs({ full: join(tmp, ONNX_MODEL_FILE), task: join(tmp, FILL_MASK_FILE) },
        mode === 'int8' ? { full: join(tmp, ONNX_QUANTIZED_FILE), task: join(tmp, FILL_MASK_QUANTIZED_FILE) } : undefined,
        maskSample(tok, texts.slice(0, TASK_GRAPH_CHECK_SENTENCES), o.maxLength ?? 128, o.seed ?? 42), config.vocab_size, o.threads)
      : undefined;
    const agreement = int8Agreement(verification);
    if (agreement !== undefined && agreement < (o.minAgreement ?? 0)) {
      throw new UserError(`export check failed: int8 top-1 agreement with fp32 is ${(100 * agreement).toFixed(2)}% < --min-agreement ${(100 * o.minAgreement!).toFixed(2)}%`);
    }
    if (agreement !== undefined && agreement < 0.99) {
      log().warn(`int8 ${classifier ? 'label' : 'top-1'} agreement with fp32 is ${(100 * agreement).toFixed(2)}% (< 99%) on the ${verification.sentences} check sentences`);
    }

    const files: ExportFile[] = [];
    const onnxFiles = [ONNX_MODEL_FILE, ...(mode === 'int8' ? [ONNX_QUANTIZED_FILE] : []),
      ...(taskGraphs ? [FILL_MASK_FILE, ...(mode === 'int8' ? [FILL_MASK_QUANTIZED_FILE] : [])] : [])];
    for (const f of [CONFIG_FILE, ...TOKENIZER_FILES, 'special_tokens_map.json', ...onnxFiles]) {
      files.push({ path: f, bytes: (await fsp.stat(join(tmp, f))).size });
    }
    const size = (p: string) => files.find((f) => f.path === p)!.bytes;
    const summary: ExportSummary = {
      outDir, opset, irVersion, quantize: mode, files,
      sizeRatio: mode === 'int8' ? size(ONNX_QUANTIZED_FILE) / size(ONNX_MODEL_FILE) : undefined,
      verification, quantization, ...(taskCheck ? { taskGraphs: taskCheck } : {}),
    };
    const { outDir: _, ...report } = summary;
    await fsp.writeFile(join(tmp, EXPORT_REPORT), `${JSON.stringify(report, null, 2)}\n`);
    await writeManifest(tmp, { kind: 'export', command: 'export', status: 'complete' });
    await commitFolder(tmp, outDir);
    return summary;
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** int8 vs fp32 agreement: top-1 token at masked positions (masked LM) or predicted label (classifier). */
export function int8Agreement(v: Verification | ClassifierVerification): number | undefined {
  if (!v.int8) return undefined;
  return 'top1Agreement' in v.int8 ? v.int8.top1Agreement : v.int8.labelAgreement;
}

/**
 * The output folder may not exist yet, or be empty, or (with overwrite) be replaced when it is an export folder
 * CompactLM wrote (its manifest says so). Its parent must exist.
 */
async function checkOutputTarget(outDir: string, overwrite: boolean): Promise<void> {
  await checkOutputDir(outDir);
  if (overwrite) checkReplaceable('--out', outDir, 'export');
  else checkOutputFolder('--out', outDir, 'export', () => false, 'pass --overwrite to replace it');
}

/** Tokenizer files: the model folder's own when it has all three, else CompactLM's bert-base-uncased ones. */
async function writeTokenizer(modelDir: string, dir: string): Promise<void> {
  if (TOKENIZER_FILES.every((f) => existsSync(join(modelDir, f)))) {
    for (const f of TOKENIZER_FILES) await fsp.copyFile(join(modelDir, f), join(dir, f));
  } else {
    log().warn(`${modelDir}: no tokenizer files; writing CompactLM's bert-base-uncased tokenizer`);
    await writeTokenizerFiles(dir);
  }
  const map = { cls_token: SPECIAL_TOKENS.cls, mask_token: SPECIAL_TOKENS.mask, pad_token: SPECIAL_TOKENS.pad, sep_token: SPECIAL_TOKENS.sep, unk_token: SPECIAL_TOKENS.unk };
  await fsp.writeFile(join(dir, 'special_tokens_map.json'), `${JSON.stringify(map, null, 2)}\n`);
}

