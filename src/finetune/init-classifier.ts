/**
 * The starting weights of `finetune`: a classifier over the training labels, from a model folder.
 *
 * - A masked-LM folder (or BertModel / BertForPreTraining): the encoder is copied; `bert.pooler.dense` comes from
 *   the checkpoint when it has one (BertForPreTraining does) and `classifier` is new. New tensors are initialized
 *   as HF `_init_weights` does (weights N(0, initializer_range = 0.02), biases zero), exactly what
 *   `BertForSequenceClassification.from_pretrained` does with such a folder.
 * - A classifier folder over the same labels in the same order: everything is copied (training continues).
 *   Over other labels: an error, unless `resetHead`, which keeps the encoder and pooler and starts a new classifier.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelTable } from '../model/architecture.js';
import { CONFIG_FILE, loadModelFolder, WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import { classifierConfig, classifierLabels, isClassifier, loadConfig, type BertConfig } from '../model/config.js';
import { initParam } from '../model/params.js';
import { SafetensorsFile } from '../model/safetensors.js';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

export interface InitialClassifier {
  config: BertConfig;
  params: Map<string, Float32Array>;
  /** Tensors that were initialized fresh (HF's init), not copied. */
  initialized: string[];
  /** What the folder held: 'masked-lm' (or another encoder checkpoint) or 'classifier'. */
  from: 'masked-lm' | 'classifier';
}

const POOLER = ['bert.pooler.dense.weight', 'bert.pooler.dense.bias'];

export async function initClassifier(dir: string, labels: readonly string[], rng: Rng, o: { resetHead?: boolean } = {}): Promise<InitialClassifier> {
  const found = await loadConfig(join(dir, CONFIG_FILE));
  const classifier = isClassifier(found);
  if (classifier) {
    const had = classifierLabels(found);
    const same = had.length === labels.length && had.every((l, i) => l === labels[i]);
    if (same) {
      const m = await loadModelFolder(dir);
      return { config: { ...m.config, torch_dtype: 'float32' }, params: m.params, initialized: [], from: 'classifier' };
    }
    if (!o.resetHead) {
      throw new UserError(`${dir}: is already a classifier over the labels (${had.join(', ')}) but the training file has (${labels.join(', ')}); pass --reset-head to train a new classification head on its encoder`);
    }
  }
  // The encoder (and the pooler, where the checkpoint has one) from the folder; the rest fresh.
  const source = classifier ? await loadModelFolder(dir) : await loadModelFolder(dir, { initMissingHead: rng.fork() });
  const copied = new Map(source.params);
  if (!classifier) for (const [name, data] of await storedPooler(dir)) copied.set(name, data);
  const config = classifierConfig({ ...source.config, torch_dtype: 'float32' }, labels);
  const params = new Map<string, Float32Array>();
  const initialized: string[] = [];
  for (const spec of modelTable(config)) {
    const keep = copied.get(spec.name);
    const fresh = spec.name.startsWith('classifier.') || (!keep && POOLER.includes(spec.name));
    if (!fresh && !keep) throw new Error(`initClassifier: ${dir} lacks ${spec.name}`);
    if (fresh) initialized.push(spec.name);
    params.set(spec.name, fresh ? initParam(spec, config, rng) : keep!);
  }
  return { config, params, initialized, from: classifier ? 'classifier' : 'masked-lm' };
}

/** The pooler of a BertForPreTraining / BertModel checkpoint (a masked-LM loader ignores it), if it has both tensors. */
async function storedPooler(dir: string): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const path = join(dir, WEIGHTS_FILE);
  if (!existsSync(path)) return out;
  const file = await SafetensorsFile.open(path);
  try {
    for (const name of POOLER) {
      const stored = [name, name.replace(/^bert\./, '')].find((n) => file.tensors.has(n));
      if (stored) out.set(name, await file.read(stored));
    }
  } finally {
    await file.close();
  }
  return out.size === POOLER.length ? out : new Map();
}
