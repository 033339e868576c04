/**
 * The teacher of a distillation run, and its logits at the masked positions of a batch.
 *
 *   const teacher = await loadTeacher('runs/base');            // folder, export folder or hub id
 *   const logits = await maskedLogits(teacher, { batchSize: 16, seqLen: 128, maxPredictions: 20 }, { threads: 2 });
 *   const t = await logits.run(feeds);                           // Float32Array [num_masked, V] at feeds.masked_positions
 *
 * What --teacher may be:
 * 1. a model folder: config.json + model.safetensors (or a sharded index) in Hugging Face BertForMaskedLM form
 *    (loadModelFolder: legacy LayerNorm.gamma/beta names, pooler and NSP head ignored). Its logits come from a graph
 *    that runs the MLM head only at the gathered masked positions (the train graph's trick): the [B·T, V] decoder
 *    product, the biggest matrix multiply of a small model, shrinks to [num_masked, V].
 * 2. an export folder from `compactlm export` (onnx/model.onnx with output `logits` [batch, sequence, V], plus
 *    config.json): run as it is, on a few rows at a time to bound the [rows, T, V] output, rows gathered in JS.
 *    A folder with both uses the safetensors weights (same model, less work).
 * 3. a Hugging Face hub id (`bert-base-uncased`): the local HF cache, else downloaded (hub.ts).
 *
 * Teacher and student must share the vocabulary, since the KL term compares distributions token by token: the
 * teacher's vocab_size must be 30,522 and, when the folder has vocab.txt or tokenizer.json, its tokens must be
 * bert-base-uncased's (vocab.txt by sha256, tokenizer.json token by token). Every problem is one line.
 */
import { existsSync, promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { CONFIG_FILE, loadModelFolder, WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from '../model/checkpoint-folder.js';
import { loadConfig, type BertConfig } from '../model/config.js';
import { countParams } from '../model/bert.js';
import { compileStep, type StepShape } from '../model/step-compiler.js';
import { ONNX_MODEL_FILE } from '../export/export-folder.js';
import { createSession, type SessionConfig } from '../runtime/session.js';
import type { WireFeeds } from '../runtime/wire.js';
import { loadVocab, sha256, VOCAB_SHA256, VOCAB_SIZE } from '../tokenizer/vocab.js';
import { UserError } from '../util/errors.js';
import { isHubId, resolveHubModel } from './hub.js';


export interface Teacher {
  /** What --teacher said. */
  source: string;
  /** The folder it resolved to. */
  dir: string;
  format: 'safetensors' | 'onnx';
  config: BertConfig;
  /** Weights by HF name (safetensors teachers only). */
  weights: Map<string, Float32Array> | null;
  /** BertForMaskedLM parameter count of config (tied decoder counted once). */
  numParams: number;
}

/** Logits [num_masked, V] at a batch's masked positions. */
export interface MaskedLogits {
  run(feeds: WireFeeds): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Resolves and loads --teacher; checks its vocabulary against the student's (bert-base-uncased). */
export async function loadTeacher(source: string, o: { hub?: Parameters<typeof resolveHubModel>[1] } = {}): Promise<Teacher> {
  let dir = source;
  if (!existsSync(source)) {
    if (!isHubId(source)) throw new UserError(`--teacher ${source}: no such folder`);
    dir = await resolveHubModel(source, o.hub);
  } else if (!statSync(source).isDirectory()) {
    throw new UserError(`--teacher ${source}: not a folder (give a model folder with ${CONFIG_FILE} + ${WEIGHTS_FILE}, an export folder with ${ONNX_MODEL_FILE}, or a Hugging Face model id)`);
  }
  const hasWeights = existsSync(join(dir, WEIGHTS_FILE)) || existsSync(join(dir, WEIGHTS_INDEX_FILE));
  const hasOnnx = existsSync(join(dir, ONNX_MODEL_FILE));
  if (!existsSync(join(dir, CONFIG_FILE)) || !(hasWeights || hasOnnx)) {
    throw new UserError(`--teacher ${dir}: not a model folder (needs ${CONFIG_FILE} with ${WEIGHTS_FILE}, or ${ONNX_MODEL_FILE} from \`compactlm export\`)`);
  }
  const config = await loadConfig(join(dir, CONFIG_FILE));
  if (config.vocab_size !== VOCAB_SIZE) {
    throw new UserError(`--teacher ${dir}: vocab_size is ${config.vocab_size}, but the student uses bert-base-uncased's ${VOCAB_SIZE} tokens; teacher and student must share the vocabulary`);
  }
  await checkVocabFiles(dir);
  let weights: Map<string, Float32Array> | null = null;
  if (hasWeights) weights = (await loadModelFolder(dir)).params;
  return { source, dir, format: weights ? 'safetensors' : 'onnx', config, weights, numParams: countParams(config) };
}

/** vocab.txt (sha256) and tokenizer.json (token → id) must be bert-base-uncased's when present. */
async function checkVocabFiles(dir: string): Promise<void> {
  const vocabTxt = join(dir, 'vocab.txt');
  if (existsSync(vocabTxt)) {
    const digest = sha256(await fsp.readFile(vocabTxt));
    if (digest !== VOCAB_SHA256) {
      throw new UserError(`${vocabTxt}: not the bert-base-uncased vocabulary (sha256 ${digest.slice(0, 12)}…, expected ${VOCAB_SHA256.slice(0, 12)}…); teacher and student must share the vocabulary`);
    }
  }
  const tokJson = join(dir, 'tokenizer.json');
  if (existsSync(tokJson)) {
    let vocab: unknown;
    try {
      vocab = (JSON.parse(await fsp.readFile(tokJson, 'utf8')) as { model?: { vocab?: unknown } }).model?.vocab;
    } catch (e) {
      throw new UserError(`${tokJson}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new UserError(`${tokJson}: has no model.vocab object (not a WordPiece tokenizer)`);
    const ours = loadVocab();
    const theirs = vocab as Record<string, unknown>;
    const size = Object.keys(theirs).length;
    const diff = ours.findIndex((tok, id) => theirs[tok] !== id);
    if (size !== ours.length || diff >= 0) {
      const what = diff >= 0 ? `token ${JSON.stringify(ours[diff])} has id ${JSON.stringify(theirs[ours[diff]] ?? null)}, expected ${diff}` : `${size} tokens, expected ${ours.length}`;
      throw new UserError(`${tokJson}: not the bert-base-uncased vocabulary (${what}); teacher and student must share the vocabulary`);
    }
  }
}

/** Checks that the teacher can read sequences of `seqLen` tokens. */
export function checkTeacherFits(t: Teacher, seqLen: number): void {
  if (seqLen > t.config.max_position_embeddings) {
    throw new UserError(`--teacher ${t.dir}: --seq-len ${seqLen} exceeds the teacher's max_position_embeddings (${t.config.max_position_embeddings})`);
  }
}

/** Logits at masked positions for a model given as weights (a safetensors teacher, or the trained student). */
export async function weightsMaskedLogits(config: BertConfig, weights: ReadonlyMap<string, Float32Array>, s: StepShape, session: SessionConfig = {}): Promise<MaskedLogits> {
  const sess = await createSession(compileStep({ kind: 'logits', config, weights, shape: s }).bytes, session);
  return {
    async run(feeds) {
      const pick = (n: string) => new ort.Tensor(feeds[n].type, feeds[n].data as never, feeds[n].dims);
      const out = await sess.run({ input_ids: pick('input_ids'), attention_mask: pick('attention_mask'), token_type_ids: pick('token_type_ids'), masked_positions: pick('masked_positions') });
      return out.logits.data as Float32Array;
    },
    release: () => sess.release(),
  };
}

/** Rows of an ONNX teacher's [rows, T, V] output held at once: about 64 M floats (256 MB). */
const ONNX_CHUNK_FLOATS = 64 * 1024 * 1024;

/** Logits at masked positions from an exported onnx/model.onnx (all positions computed, the masked rows kept). */
export async function onnxMaskedLogits(dir: string, V: number, s: StepShape, session: SessionConfig = {},
  maxRows = Math.floor(ONNX_CHUNK_FLOATS / (s.seqLen * V))): Promise<MaskedLogits> {
  const path = join(dir, ONNX_MODEL_FILE);
  let sess: ort.InferenceSession;
  try {
    sess = await createSession(path, session);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}: cannot load the ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const known = ['input_ids', 'attention_mask', 'token_type_ids'];
  const unknown = sess.inputNames.filter((n) => !known.includes(n));
  if (unknown.length > 0 || !sess.inputNames.includes('input_ids')) {
    throw new UserError(`${path}: inputs ${JSON.stringify(sess.inputNames)}; a teacher export must take input_ids (and optionally attention_mask, token_type_ids)`);
  }
  if (!sess.outputNames.includes('logits')) throw new UserError(`${path}: no output named logits (outputs ${JSON.stringify(sess.outputNames)}); export a masked-LM model`);
  const { batchSize: B, seqLen: T } = s;
  const chunk = Math.max(1, Math.min(B, maxRows));
  return {
    async run(feeds) {
      const positions = feeds.masked_positions.data as BigInt64Array;
      const out = new Float32Array(positions.length * V);
      for (let b0 = 0; b0 < B; b0 += chunk) {
        const rows = Math.min(chunk, B - b0);
        const input: Record<string, ort.Tensor> = {};
        for (const n of sess.inputNames) {
          input[n] = new ort.Tensor('int64', (feeds[n].data as BigInt64Array).slice(b0 * T, (b0 + rows) * T), [rows, T]);
        }
        const logits = (await sess.run(input, ['logits'])).logits;
        if (logits.dims.length !== 3 || logits.dims[0] !== rows || logits.dims[1] !== T || logits.dims[2] !== V) {
          throw new UserError(`${path}: logits have shape [${logits.dims}], expected [${rows}, ${T}, ${V}]`);
        }
        const data = logits.data as Float32Array;
        positions.forEach((p, slot) => {
          const row = Number(p) - b0 * T; // flat b·T + t, rebased to this chunk
          if (row >= 0 && row < rows * T) out.set(data.subarray(row * V, (row + 1) * V), slot * V);
        });
      }
      return out;
    },
    release: () => sess.release(),
  };
}

/** The teacher's logits at masked positions, for batches of shape `s`. */
export async function maskedLogits(t: Teacher, s: StepShape, session: SessionConfig = {}): Promise<MaskedLogits> {
  checkTeacherFits(t, s.seqLen);
  return t.weights ? weightsMaskedLogits(t.config, t.weights, s, session) : onnxMaskedLogits(t.dir, t.config.vocab_size, s, session);
}
