#!/usr/bin/env node
// End-to-end trainer throughput (dist/train/pretrain.js): the worker thread running the step graphs, the main thread
// drawing the next batch (packing, masking, dropout keep-masks) meanwhile. In one run, at the same shape (BERT-mini,
// datasets/prose.csv, B=16, T=128, dropout 0.1 on every side; the peers score 19 rows per sequence, the trainer's
// mean at 15% masking, since it feeds only the scored ones of its M slots):
//   one worker   the trainer with one session of BENCH_THREADS threads, batch B;
//   workers      the trainer with `workers: 2` (one ORT thread each) over two micro-batches of B/2 (gradAccum 2),
//                the same B·T tokens per optimizer step;
//   bare step    bench/train-step.mjs's session.run of the compiled train step (BENCH_PYTORCH=0), BENCH_THREADS threads;
//   PyTorch      bench/pytorch-step.py on the peer Python (bench/lib/peer-python.mjs), BENCH_THREADS threads.
// Each trainer variant runs in its own process (so peak RSS is its own); ms per optimizer step is the median over the
// steps after 3 warm-up ones (fewer when BENCH_STEPS < 5: BENCH_STEPS - 2), the last (checkpoint) step excluded.
//
//   npm run bench -- trainer        env: BENCH_PRESET=tiny|mini  BENCH_STEPS=15  BENCH_THREADS=2  BENCH_B=16  BENCH_T=128
//                                        BENCH_DROPOUT=0.1  COMPACTLM_PYTHON (the peer's Python)
//
// Prints one line per trainer variant: {"bench":"trainer","variant":"one worker"|"workers",...,"ms_per_step",
// "bench_step_ms","pytorch_step_ms","vs_bench_step","vs_pytorch","load_avg","peak_rss_mb"} (vs_*: ms_per_step over
// the other's ms; vs_pytorch null, with pytorch_skipped, where the peer is skipped). load_avg: the 1-minute load when
// that variant's run ended; on a shared machine, a load above the threads in use means the neighbours are timed too.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeConfig } from '../dist/model/config.js';
import { defaultMaxPredictions } from '../dist/train/masking.js';
import { pretrain, withDropout } from '../dist/train/pretrain.js';
import { configureLogger } from '../dist/util/log.js';
import { peerPython } from './lib/peer-python.mjs';

const preset = process.env.BENCH_PRESET ?? 'mini';
const steps = Number(process.env.BENCH_STEPS ?? 15);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const B = Number(process.env.BENCH_B ?? 16);
const T = Number(process.env.BENCH_T ?? 128);
const dropout = Number(process.env.BENCH_DROPOUT ?? 0.1);
const M = defaultMaxPredictions(T); // the slots pretrain's masking reserves per sequence
// The trainer feeds only the scored slots (15% of the T − 2 maskable tokens on average), so the bare step and
// PyTorch score that many rows per sequence.
const scored = Math.round(0.15 * (T - 2));
const warm = Math.min(3, steps - 2);
const VARIANTS = {
  'one worker': { batchSize: B, gradAccum: 1, threads },
  workers: { batchSize: B / 2, gradAccum: 2, workers: 2, threads: 1 },
};
const fail = (msg) => {
  console.error(`bench trainer: ${msg}`);
  process.exit(2);
};
if (!(steps >= 2)) fail(`BENCH_STEPS=${steps}: needs at least 2 (the last step saves a checkpoint and is not timed)`);
if (B % 2 !== 0) fail(`BENCH_B=${B}: must be even (the workers variant splits it into two micro-batches)`);

const variantArg = process.argv.indexOf('--variant');
if (variantArg >= 0) {
  console.log(JSON.stringify(await runTrainer(process.argv[variantArg + 1])));
  process.exit(0);
}

/** One trainer variant in this process: median ms per optimizer step (B·T tokens) and this process's peak RSS. */
async function runTrainer(name) {
  process.env.COMPACTLM_LOG_LEVEL ??= 'warn';
  configureLogger({ json: false, verbose: false });
  const v = VARIANTS[name];
  const dir = mkdtempSync(join(tmpdir(), 'bench-trainer-'));
  try {
    const out = join(dir, 'run');
    const summary = await pretrain({
      train: 'datasets/prose.csv', out, preset, steps: 1000, stopAfter: steps, seqLen: T, lr: 5e-4, warmup: 0.06, schedule: 'linear',
      weightDecay: 0.01, loss: 'ce', evalEvery: 1000, saveEvery: 1000, seed: 1, dropout, ...v,
    });
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'loss' in r);
    // tokens_per_s counts every micro-batch of the step, so B·T over it is the time of one optimizer step.
    const ms = rows.slice(warm, -1).map((r) => (B * T * 1000) / r.tokens_per_s).sort((a, b) => a - b);
    const median = ms[Math.floor(ms.length / 2)];
    return {
      steps: ms.length, ms_per_step: +median.toFixed(1), tokens_per_s: Math.round((B * T * 1000) / median),
      mean_tokens_per_s: Math.round(summary.tokens_per_s), load_avg: +loadavg()[0].toFixed(2),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first JSON line of `bench` on a child's stdout, or why there is none. */
function jsonLine(r, bench, who) {
  if (r.error) return { skipped: `${who}: ${r.error.message}` };
  const line = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((o) => o.bench === bench);
  return line ?? { skipped: `${who}: exit ${r.status}, no ${bench} line` };
}

const here = fileURLToPath(import.meta.url);
const child = (file, env = {}, args = []) => spawnSync(process.execPath, [file, ...args], {
  env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
});
const trainer = Object.fromEntries(Object.keys(VARIANTS).map((name) => {
  const r = child(here, {}, ['--variant', name]);
  if (r.status !== 0) fail(`the ${name} variant exited with ${r.status}`);
  return [name, JSON.parse(r.stdout.trim().split('\n').pop())];
}));

const shapeEnv = {
  BENCH_PRESET: preset, BENCH_STEPS: String(steps), BENCH_THREADS: String(threads), BENCH_B: String(B), BENCH_T: String(T), BENCH_M: String(scored),
};
const bare = jsonLine(child(join(here, '..', 'train-step.mjs'), { ...shapeEnv, BENCH_DROPOUT: String(dropout), BENCH_PYTORCH: '0' }), 'train_step', 'bench/train-step.mjs');
if (bare.skipped) fail(bare.skipped);

const peer = peerPython();
const torch = peer.skipped ? peer : jsonLine(spawnSync(peer.python, [join(here, '..', 'pytorch-step.py')], {
  env: { ...process.env, ...shapeEnv, BENCH_CONFIG: JSON.stringify(withDropout(makeConfig(preset), dropout)) },
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
}), 'pytorch_step', `bench/pytorch-step.py on ${peer.python}`);

for (const [name, t] of Object.entries(trainer)) {
  const v = VARIANTS[name];
  console.log(JSON.stringify({
    bench: 'trainer', variant: name, preset, batch_size: B, seq_len: T, masked_per_seq: M, peers_scored_per_seq: scored, dropout,
    micro_batch: v.batchSize, grad_accum: v.gradAccum, workers: v.workers ?? 1, threads_per_worker: v.threads, ...t,
    bench_step_ms: bare.ms_per_step, bench_step_threads: threads, vs_bench_step: +(t.ms_per_step / bare.ms_per_step).toFixed(3),
    pytorch_step_ms: torch.ms_per_step ?? null, pytorch_threads: threads,
    vs_pytorch: torch.ms_per_step ? +(t.ms_per_step / torch.ms_per_step).toFixed(3) : null,
    ...(torch.skipped ? { pytorch_skipped: torch.skipped } : { pytorch: `torch ${torch.torch} (${peer.python})` }),
  }));
}
