/**
 * BERT model configuration, typed like Hugging Face's `BertConfig` and written with the same keys, so a
 * config.json from CompactLM loads in transformers / transformers.js and one from the Hub loads here.
 *
 * nanoGPT style: a preset gives the defaults, overrides change single keys, `validateConfig` checks the result.
 */
import { promises as fsp } from 'node:fs';
import { UserError } from '../util/errors.js';
import { PRESETS, type PresetName } from './presets.js';

/** GELU variants CompactLM's graph builder implements: exact (erf) and the tanh approximation. */
export const GELU_ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh'] as const;
export type HiddenAct = (typeof GELU_ACTIVATIONS)[number];

/**
 * The transformers release whose BertConfig and BertForMaskedLM weight layout CompactLM writes. HF stores the
 * version that wrote a config; it only uses it for warnings.
 */
export const TRANSFORMERS_VERSION = '4.40.0';

export interface BertConfig {
  architectures: string[];
  model_type: 'bert';
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  position_embedding_type: 'absolute';
  classifier_dropout: number | null;
  use_cache: boolean;
  tie_word_embeddings: boolean;
  /** How model.safetensors stores the weights; CompactLM computes in float32 whatever it reads. */
  torch_dtype: 'float32' | 'float16';
  transformers_version: string;
  /** Fine-tuned classification heads (HF keys); absent for masked-LM models. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  /** Written with id2label (HF derives it from id2label; written too, as the card of the format asks). */
  num_labels?: number;
  problem_type?: 'single_label_classification';
  /** "extractive": a sentence scorer from `finetune --task extractive` (architectures [EXTRACTIVE_SUMMARIZATION]). */
  task?: typeof EXTRACTIVE_TASK;
}

export const MASKED_LM = 'BertForMaskedLM';
export const SEQUENCE_CLASSIFICATION = 'BertForSequenceClassification';
/**
 * BertSumExt with a Linear sentence classifier (heads/extractive.ts). Not a transformers class: PyTorch reads the
 * encoder with `BertModel.from_pretrained(dir)` and the head as the plain tensors ext_layer.linear1.{weight,bias}.
 */
export const EXTRACTIVE_SUMMARIZATION = 'BertForExtractiveSummarization';
/** config.json's `task` of an extractive summarizer (what `summarize` looks for). */
export const EXTRACTIVE_TASK = 'extractive';

/** A fine-tuned classifier (HF BertForSequenceClassification) rather than a masked LM. */
export function isClassifier(config: BertConfig): boolean {
  return config.architectures.includes(SEQUENCE_CLASSIFICATION);
}

/** An extractive summarizer (`finetune --task extractive`): an encoder and a sentence classifier over [CLS] rows. */
export function isExtractive(config: BertConfig): boolean {
  return config.architectures.includes(EXTRACTIVE_SUMMARIZATION);
}

/** `base`'s encoder as an extractive summarizer's config (labels of a classifier base dropped). */
export function extractiveConfig(base: BertConfig): BertConfig {
  const c: BertConfig = { ...base, architectures: [EXTRACTIVE_SUMMARIZATION], task: EXTRACTIVE_TASK };
  for (const key of ['id2label', 'label2id', 'num_labels', 'problem_type'] as const) delete c[key];
  return c;
}

/** A classifier's labels in id order (id2label "0" … "C−1"; validateConfig checked them). */
export function classifierLabels(config: BertConfig): string[] {
  const id2label = config.id2label ?? {};
  return Object.keys(id2label).map(Number).sort((a, b) => a - b).map((i) => id2label[String(i)]);
}

/** `base` (its encoder sizes) as a BertForSequenceClassification config over `labels` (in id order). */
export function classifierConfig(base: BertConfig, labels: readonly string[]): BertConfig {
  return {
    ...base,
    architectures: [SEQUENCE_CLASSIFICATION],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    num_labels: labels.length,
    problem_type: 'single_label_classification',
  };
}

/** HF BertConfig defaults (bert-base-uncased sizes); presets override the sizes. */
export const BERT_DEFAULTS: BertConfig = {
  architectures: ['BertForMaskedLM'],
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  classifier_dropout: null,
  use_cache: true,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
  transformers_version: TRANSFORMERS_VERSION,
};

const KNOWN_KEYS = new Set<string>([...Object.keys(BERT_DEFAULTS), 'id2label', 'label2id', 'num_labels', 'problem_type']);

/** A preset's config with `overrides` applied, validated. Unknown override keys are an error (likely typos). */
export function makeConfig(preset: PresetName = 'tiny', overrides: Partial<BertConfig> = {}): BertConfig {
  if (!(preset in PRESETS)) {
    throw new UserError(`unknown model preset "${preset}" (choose one of ${Object.keys(PRESETS).join(', ')})`);
  }
  for (const key of Object.keys(overrides)) {
    if (!KNOWN_KEYS.has(key)) throw new UserError(`model config override: unknown key "${key}"`);
  }
  return validateConfig({ ...BERT_DEFAULTS, ...PRESETS[preset], ...overrides }, 'model config');
}

/** Number of attention heads' width: hidden_size / num_attention_heads. */
export function headSize(config: BertConfig): number {
  return config.hidden_size / config.num_attention_heads;
}

/** Whether the GELU in this config is the tanh approximation (gelu_new / gelu_pytorch_tanh) or exact (erf). */
export function geluApproximation(config: BertConfig): 'none' | 'tanh' {
  return config.hidden_act === 'gelu' ? 'none' : 'tanh';
}

/**
 * Checks a parsed config object and fills keys an older HF config may lack with HF defaults. `source` (a file
 * path or a label) starts every error: one line naming the key and the problem. Keys CompactLM does not use
 * (e.g. `gradient_checkpointing`, `output_past`) are kept as they are so a Hub config survives a round trip.
 */
export function validateConfig(raw: unknown, source: string): BertConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${source}: config must be a JSON object`);
  }
  const c = { ...BERT_DEFAULTS, ...(raw as Record<string, unknown>) } as Record<string, unknown>;
  const fail = (key: string, problem: string): never => {
    throw new UserError(`${source}: ${key}: ${problem} (found ${JSON.stringify(c[key])})`);
  };
  const posInt = (key: string) => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(key, 'must be a positive integer');
  };
  const prob = (key: string) => {
    const v = c[key];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) fail(key, 'must be a number in [0, 1)');
  };
  const positive = (key: string) => {
    const v = c[key];
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail(key, 'must be a positive number');
  };

  if (c.model_type !== 'bert') fail('model_type', 'must be "bert"');
  for (const key of [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'max_position_embeddings',
    'type_vocab_size',
  ]) {
    posInt(key);
  }
  if ((c.hidden_size as number) % (c.num_attention_heads as number) !== 0) {
    fail('hidden_size', `must be divisible by num_attention_heads (${c.num_attention_heads})`);
  }
  if (!(GELU_ACTIVATIONS as readonly unknown[]).includes(c.hidden_act)) {
    fail('hidden_act', `must be one of ${GELU_ACTIVATIONS.join(', ')}`);
  }
  prob('hidden_dropout_prob');
  prob('attention_probs_dropout_prob');
  if (c.classifier_dropout !== null) prob('classifier_dropout');
  positive('initializer_range');
  positive('layer_norm_eps');
  const pad = c.pad_token_id;
  if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0 || pad >= (c.vocab_size as number)) {
    fail('pad_token_id', `must be an integer in [0, vocab_size=${c.vocab_size})`);
  }
  if (c.position_embedding_type !== 'absolute') fail('position_embedding_type', 'only "absolute" is supported');
  if (c.tie_word_embeddings !== true) {
    fail('tie_word_embeddings', 'must be true (the MLM decoder shares the word embeddings)');
  }
  if (c.is_decoder === true) fail('is_decoder', 'must be false (CompactLM trains bidirectional encoders)');
  if (c.add_cross_attention === true) fail('add_cross_attention', 'cross-attention is not supported');
  if (!Array.isArray(c.architectures) || !c.architectures.every((a) => typeof a === 'string')) {
    fail('architectures', 'must be a list of class names');
  }
  if (typeof c.use_cache !== 'boolean') fail('use_cache', 'must be true or false');
  if ((c.architectures as string[]).includes(SEQUENCE_CLASSIFICATION)) checkLabels(c, fail);
  if ((c.architectures as string[]).includes(EXTRACTIVE_SUMMARIZATION) && c.task !== EXTRACTIVE_TASK) {
    fail('task', `${EXTRACTIVE_SUMMARIZATION} needs "task": "${EXTRACTIVE_TASK}" (what summarize looks for)`);
  }
  // CompactLM computes and stores float32; an fp16 Hub config is read (weights are converted on load).
  c.torch_dtype = 'float32';
  if (typeof c.transformers_version !== 'string') fail('transformers_version', 'must be a string');
  return c as unknown as BertConfig;
}

/** A classifier's id2label must name labels 0 … C−1 (C ≥ 2), distinct, and agree with label2id and num_labels. */
function checkLabels(c: Record<string, unknown>, fail: (key: string, problem: string) => never): void {
  const id2label = c.id2label as Record<string, unknown> | undefined;
  if (typeof id2label !== 'object' || id2label === null) fail('id2label', `${SEQUENCE_CLASSIFICATION} needs id2label`);
  const keys = Object.keys(id2label!);
  const C = keys.length;
  if (C < 2) fail('id2label', 'a classifier needs at least two labels');
  for (let i = 0; i < C; i++) {
    if (typeof id2label![String(i)] !== 'string') fail('id2label', `must map "0" … "${C - 1}" to label names`);
  }
  if (new Set(Object.values(id2label!)).size !== C) fail('id2label', 'label names must be distinct');
  const label2id = c.label2id as Record<string, unknown> | undefined;
  if (label2id !== undefined && keys.some((k) => label2id[id2label![k] as string] !== Number(k))) {
    fail('label2id', 'must be the inverse of id2label');
  }
  if (c.num_labels !== undefined && c.num_labels !== C) fail('num_labels', `must equal the ${C} labels of id2label`);
  if (c.problem_type !== undefined && c.problem_type !== 'single_label_classification') {
    fail('problem_type', 'only "single_label_classification" is supported');
  }
}

/** Reads and validates a config.json. Errors are one line naming the file and the key. */
export async function loadConfig(path: string): Promise<BertConfig> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return validateConfig(raw, path);
}

/** config.json text as HF writes it: keys sorted, two-space indent, trailing newline. */
export function configToJson(config: BertConfig): string {
  const obj = config as unknown as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) sorted[key] = obj[key];
  return JSON.stringify(sorted, null, 2) + '\n';
}
