/** Reads test/fixtures/reference/grad-2l-h8.json (written by make_grad_fixture.py). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MlmBatch } from './our-gradients.js';

export const GRAD_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'reference', 'grad-2l-h8.json');

export interface GradFixture {
  torch: string;
  transformers: string;
  /** HF BertConfig keys (the rest are BertConfig defaults); each case sets hidden_act. */
  config: Record<string, unknown>;
  batch: MlmBatch;
  /** sha256 of every parameter's float32 weights, concatenated in state_dict order. */
  weights_sha256: string;
  cases: {
    name: string;
    hidden_act: 'gelu' | 'gelu_new';
    /** The dtype of the CompactLM graph checked against this case (torch always ran float64). */
    graph_dtype: 'float32' | 'float64';
    loss: number;
    /** By HF name in state_dict order: shape, the float64 gradient (little-endian, base64) and its max |·|. */
    grads: Record<string, { shape: number[]; float64: string; max_abs: number }>;
  }[];
}

export function readGradFixture(path = GRAD_FIXTURE): GradFixture {
  return JSON.parse(readFileSync(path, 'utf8')) as GradFixture;
}

export function decodeF64(b64: string): Float64Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}
