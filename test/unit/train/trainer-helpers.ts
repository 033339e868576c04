/** Shared setup of the trainer tests: a tiny BERT (V must stay 30,522 for the tokenizer) on a small prose CSV. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PretrainOptions } from '../../../src/train/pretrain.js';
import { configureLogger } from '../../../src/util/log.js';

// Quiet logs (errors still show).
process.env.COMPACTLM_LOG_LEVEL ??= 'warn';
configureLogger({ json: false, verbose: false });

export const FIXTURE = new URL('../../fixtures/pretrain-small.csv', import.meta.url).pathname;

export function tmp(prefix = 'compactlm-trainer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** H=32, L=1, A=2, I=64: ~1M parameters, almost all of them the word embeddings. */
export function tinyConfigFile(dir: string): string {
  const path = join(dir, 'tiny-config.json');
  writeFileSync(path, JSON.stringify({ model_type: 'bert', hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 }));
  return path;
}

export function options(dir: string, over: Partial<PretrainOptions> = {}): PretrainOptions {
  return {
    train: FIXTURE,
    out: join(dir, 'run'),
    config: tinyConfigFile(dir),
    steps: 12,
    batchSize: 4,
    seqLen: 16,
    lr: 5e-3,
    warmup: 0.1,
    schedule: 'linear',
    weightDecay: 0.01,
    gradAccum: 1,
    loss: 'ce',
    evalEvery: 4,
    seed: 7,
    threads: 1,
    ...over,
  };
}
