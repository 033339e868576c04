#!/usr/bin/env node
// End-to-end trainer throughput (dist/train/pretrain.js): the worker thread running train_step.onnx, the main
// thread drawing the next batch (packing, masking, dropout keep-masks) meanwhile, outputs swapped in the worker.
// Default: BERT-mini (H256 L4) on datasets/prose.csv, B=16, T=128, dropout on, 2 threads; median ms/step of the
// steps after 3 warm-up ones (checkpoint and evaluation steps excluded). Compare with bench/train-step.mjs, which
// times the bare session.run.
//
//   npm run bench -- trainer        env: BENCH_PRESET=tiny|mini  BENCH_STEPS=15  BENCH_THREADS=2  BENCH_B=16  BENCH_T=128
//
// Prints: {"bench":"trainer","preset":...,"ms_per_step":...,"tokens_per_s":...,"peak_rss_mb":...}
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrain } from '../dist/train/pretrain.js';
import { configureLogger } from '../dist/util/log.js';

process.env.COMPACTLM_LOG_LEVEL ??= 'warn';
configureLogger({ json: false, verbose: false });
const preset = process.env.BENCH_PRESET ?? 'mini';
const steps = Number(process.env.BENCH_STEPS ?? 15);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const B = Number(process.env.BENCH_B ?? 16);
const T = Number(process.env.BENCH_T ?? 128);
const warm = 3;

const dir = mkdtempSync(join(tmpdir(), 'bench-trainer-'));
try {
  const out = join(dir, 'run');
  const summary = await pretrain({
    train: 'datasets/prose.csv', out, preset, steps: 1000, stopAfter: steps, batchSize: B, seqLen: T, lr: 5e-4, warmup: 0.06,
    schedule: 'linear', weightDecay: 0.01, gradAccum: 1, loss: 'ce', evalEvery: 1000, saveEvery: 1000, seed: 1, threads,
  });
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'loss' in r);
  const ms = rows.slice(warm, -1).map((r) => (B * T * 1000) / r.tokens_per_s).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  console.log(JSON.stringify({
    bench: 'trainer', preset, batch_size: B, seq_len: T, threads, steps: ms.length,
    ms_per_step: +median.toFixed(1), tokens_per_s: Math.round((B * T * 1000) / median),
    mean_tokens_per_s: Math.round(summary.tokens_per_s), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
