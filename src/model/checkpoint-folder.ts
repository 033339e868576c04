/**
 * A model folder in the Hugging Face layout: `config.json` + `model.safetensors` with `BertForMaskedLM` or
 * `BertForSequenceClassification` tensor names (config.json's `architectures` says which; architecture.ts), so
 * PyTorch transformers, transformers.js and CompactLM all read the same folder.
 *
 * Reading is tolerant of what real checkpoints contain: the old TF-era `LayerNorm.gamma/.beta` spelling, BertModel
 * checkpoints without the `bert.` prefix, a pooler and NSP head (unused by a masked LM), the tied decoder saved
 * explicitly, and sharded weights (`model.safetensors.index.json`). Every expected tensor must then be present
 * with the shape config.json implies; the first problem is reported as one line.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { refuseUnfinished } from '../util/output-manifest.js';
import { tempPath } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { Rng } from '../util/rng.js';
import { configToJson, isClassifier, loadConfig, type BertConfig } from './config.js';
import {
  MLM_BIAS,
  TIED_DECODER_BIAS,
  TIED_DECODER_WEIGHT,
  WORD_EMBEDDINGS,
  initParam,
  numel,
} from './params.js';
import { modelTable } from './architecture.js';
import { PT_METADATA, SafetensorsFile, writeSafetensors } from './safetensors.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

export interface SaveModelFolderOptions {
  /**
   * Called after config.json and model.safetensors are in place, with the folder path, to add the files that
   * make the folder complete for its users, e.g. the tokenizer's `writeTokenizerFiles(dir)`.
   */
  writeExtraFiles?: (dir: string) => Promise<void>;
  /** Storage dtype of model.safetensors (default float32; shipped models use float16, recorded as torch_dtype). */
  dtype?: 'float32' | 'float16';
}

/**
 * Writes config.json and model.safetensors into `dir` (created if needed). Both are written to temporary names
 * first and renamed only when both are complete, so an error never leaves a half-written model file.
 */
export async function saveModelFolder(
  dir: string,
  config: BertConfig,
  params: Map<string, Float32Array>,
  opts: SaveModelFolderOptions = {},
): Promise<void> {
  const dtype = opts.dtype ?? 'float32';
  const table = modelTable(config);
  for (const spec of table) {
    const data = params.get(spec.name);
    if (!data) throw new Error(`saveModelFolder: missing parameter ${spec.name}`);
    if (data.length !== numel(spec.shape)) {
      const need = numel(spec.shape);
      throw new Error(`saveModelFolder: ${spec.name} has ${data.length} values; shape [${spec.shape}] needs ${need}`);
    }
  }
  if (params.size !== table.length) {
    const known = new Set(table.map((p) => p.name));
    const extra = [...params.keys()].filter((n) => !known.has(n));
    throw new Error(`saveModelFolder: parameters not in the BERT table: ${extra.join(', ')}`);
  }

  await fsp.mkdir(dir, { recursive: true });
  const configPath = join(dir, CONFIG_FILE);
  const weightsPath = join(dir, WEIGHTS_FILE);
  const configTmp = tempPath(configPath);
  const weightsTmp = tempPath(weightsPath);
  try {
    await fsp.writeFile(configTmp, configToJson({ ...config, torch_dtype: dtype }));
    await writeSafetensors(
      weightsTmp,
      table.map((spec) => ({ name: spec.name, shape: spec.shape, data: params.get(spec.name)! })),
      PT_METADATA,
      dtype === 'float16' ? 'F16' : 'F32',
    );
    await fsp.rename(weightsTmp, weightsPath);
    await fsp.rename(configTmp, configPath);
  } catch (e) {
    await fsp.rm(configTmp, { force: true });
    await fsp.rm(weightsTmp, { force: true });
    throw e;
  }
  if (opts.writeExtraFiles) await opts.writeExtraFiles(dir);
}

export interface LoadModelFolderOptions {
  /**
   * When the checkpoint has no MLM head (a `BertModel` checkpoint), initialize `cls.*` from this generator as HF
   * `from_pretrained` does, instead of failing. The names are returned in `initialized`.
   */
  initMissingHead?: Rng;
}

export interface LoadedModel {
  config: BertConfig;
  /** Every tensor of `paramTable(config)`, float32, under its canonical name. */
  params: Map<string, Float32Array>;
  /** Tensors that were missing and freshly initialized (only with `initMissingHead`). */
  initialized: string[];
  /** Tensor names in the files that were not used (pooler, NSP head, tied copies, buffers, unknown). */
  ignored: string[];
}

/** Tensors a checkpoint may hold that the model does not use (a masked LM has no pooler). */
function isUnused(name: string, classifier: boolean): boolean {
  return (
    (!classifier && name.startsWith('bert.pooler.')) ||
    name.startsWith('cls.seq_relationship.') ||
    name === 'bert.embeddings.position_ids' ||
    name === 'bert.embeddings.token_type_ids'
  );
}

/** Today's HF name for a tensor name found in a checkpoint. */
export function canonicalName(name: string): string {
  let n = name.replace(/\.LayerNorm\.gamma$/, '.LayerNorm.weight').replace(/\.LayerNorm\.beta$/, '.LayerNorm.bias');
  // BertModel checkpoints (base_model_prefix "bert" stripped).
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `bert.${n}`;
  return n;
}

/** Which file holds each stored tensor: model.safetensors, or the shards listed in the index. */
async function weightFiles(dir: string): Promise<{ label: string; files: string[] }> {
  const single = join(dir, WEIGHTS_FILE);
  if (await exists(single)) return { label: single, files: [single] };
  const indexPath = join(dir, WEIGHTS_INDEX_FILE);
  if (await exists(indexPath)) {
    let map: unknown;
    try {
      map = (JSON.parse(await fsp.readFile(indexPath, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new UserError(`${indexPath}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof map !== 'object' || map === null || !Object.values(map).every((f) => typeof f === 'string')) {
      throw new UserError(`${indexPath}: weight_map must map tensor names to file names`);
    }
    const files = [...new Set(Object.values(map as Record<string, string>))].map((f) => join(dir, f));
    return { label: indexPath, files };
  }
  for (const other of ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack']) {
    if (await exists(join(dir, other))) {
      throw new UserError(
        `${dir}: has ${other} but no ${WEIGHTS_FILE}; CompactLM reads safetensors ` +
          `(convert with transformers: model.save_pretrained(dir, safe_serialization=True))`,
      );
    }
  }
  throw new UserError(`${dir}: no ${WEIGHTS_FILE} in the model folder`);
}

async function exists(path: string): Promise<boolean> {
  return fsp.stat(path).then(
    () => true,
    () => false,
  );
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** Reads a model folder written by CompactLM or Hugging Face (BertForMaskedLM, BertForPreTraining, BertModel). */
export async function loadModelFolder(dir: string, opts: LoadModelFolderOptions = {}): Promise<LoadedModel> {
  const st = await fsp.stat(dir).catch(() => null);
  if (!st || !st.isDirectory()) throw new UserError(`${dir}: model folder not found`);
  refuseUnfinished(dir);
  const config = await loadConfig(join(dir, CONFIG_FILE));
  const classifier = isClassifier(config);
  const { label, files } = await weightFiles(dir);

  const opened: SafetensorsFile[] = [];
  try {
    // Canonical name → where it is stored.
    const stored = new Map<string, { file: SafetensorsFile; name: string }>();
    const ignored: string[] = [];
    for (const path of files) {
      const file = await SafetensorsFile.open(path);
      opened.push(file);
      for (const name of file.names()) {
        const canon = canonicalName(name);
        if (isUnused(canon, classifier)) {
          ignored.push(name);
          continue;
        }
        const prev = stored.get(canon);
        if (prev) throw new UserError(`${label}: tensor ${canon} is stored twice (as ${prev.name} and ${name})`);
        stored.set(canon, { file, name });
      }
    }

    const read = async (canon: string, shape: readonly number[]): Promise<Float32Array> => {
      const src = stored.get(canon)!;
      const info = src.file.tensors.get(src.name)!;
      const as = src.name === canon ? '' : ` (stored as ${src.name})`;
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        throw new UserError(
          `${src.file.path}: tensor ${canon}${as} has shape ${shapeText(info.shape)}, expected ${shapeText(shape)} ` +
            `from ${CONFIG_FILE}`,
        );
      }
      return src.file.read(src.name);
    };

    // The MLM bias may only be present under its tied alias.
    if (!stored.has(MLM_BIAS) && stored.has(TIED_DECODER_BIAS)) {
      stored.set(MLM_BIAS, stored.get(TIED_DECODER_BIAS)!);
      stored.delete(TIED_DECODER_BIAS);
    }

    const params = new Map<string, Float32Array>();
    const initialized: string[] = [];
    const hasHead = [...stored.keys()].some((n) => n.startsWith('cls.'));
    const table = modelTable(config);
    for (const spec of table) {
      if (stored.has(spec.name)) {
        params.set(spec.name, await read(spec.name, spec.shape));
      } else if (opts.initMissingHead && !hasHead && spec.name.startsWith('cls.')) {
        params.set(spec.name, initParam(spec, config, opts.initMissingHead));
        initialized.push(spec.name);
      } else {
        throw new UserError(`${label}: missing tensor ${spec.name} (expected shape ${shapeText(spec.shape)})`);
      }
    }

    // Tied copies: accepted only when they really are the tied tensor.
    const tied: [string, string][] = [
      [TIED_DECODER_WEIGHT, WORD_EMBEDDINGS],
      [TIED_DECODER_BIAS, MLM_BIAS],
    ];
    for (const [alias, target] of tied) {
      const src = stored.get(alias);
      if (!src || !params.has(target)) continue;
      const value = params.get(target)!;
      const copy = await read(alias, table.find((p) => p.name === target)!.shape);
      if (!sameValues(copy, value)) {
        throw new UserError(
          `${src.file.path}: tensor ${src.name} differs from ${target}; CompactLM needs tied decoder weights`,
        );
      }
      ignored.push(src.name);
      stored.delete(alias);
    }

    const expected = new Set(params.keys());
    const unexpected = [...stored.keys()].filter((n) => !expected.has(n));
    if (unexpected.length > 0) {
      log().warn({ dir, unexpected }, `ignoring ${unexpected.length} tensor(s) that ${config.architectures[0]} does not use`);
      ignored.push(...unexpected.map((n) => stored.get(n)!.name));
    }
    return { config, params, initialized, ignored };
  } finally {
    for (const f of opened) await f.close();
  }
}
