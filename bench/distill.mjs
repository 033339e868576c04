#!/usr/bin/env node
// Distillation throughput (dist/distill/distill.js) next to plain pretraining of the same student and the teacher's
// forward pass alone: distillation runs the teacher (logits at the scored masked slots only) on the main thread
// after each student step, so a step costs at best the two added; the ratio is the overhead of the rest (the
// distillation loss over [scored slots, V] most of all). Default: a random-init BERT-mini teacher (H256 L4) and a
// tiny student (H128 L2) on datasets/prose.csv, B=16, T=128, 2 threads; median ms/step after 3 warm-up steps.
//
//   npm run bench -- distill        env: BENCH_TEACHER=mini  BENCH_STUDENT=tiny  BENCH_STEPS=12  BENCH_THREADS=2  BENCH_B=16  BENCH_T=128
//
// Prints: {"bench":"distill","teacher":...,"student":...,"ms_per_step":...,"pretrain_ms_per_step":...,"teacher_overhead":...,
//          "teacher_forward_ms" (the teacher alone, same shape),"vs_student_plus_teacher" (goal <= 1.1),
//          "student_session_ms"/"pretrain_session_ms" (the student's compiled step in each run, from --profile),
//          "kd_loss_ms" (their gap: what the distillation loss adds), "teacher_in_run_ms" (the teacher after each step),
//          "vs_student_distill_step_plus_teacher" (the step against its two compiled parts: the trainer's own overhead)}
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distill } from '../dist/distill/distill.js';
import { weightsMaskedLogits } from '../dist/distill/teacher.js';
import { defaultMaxPredictions, maskBatch } from '../dist/train/masking.js';
import { microBatch } from '../dist/train/mlm-batches.js';
import { pretrain } from '../dist/train/pretrain.js';
import { saveModelFolder } from '../dist/model/checkpoint-folder.js';
import { makeConfig } from '../dist/model/config.js';
import { initParams } from '../dist/model/bert.js';
import { writeTokenizerFiles } from '../dist/tokenizer/tokenizer-json.js';
import { configureLogger } from '../dist/util/log.js';
import { Rng } from '../dist/util/rng.js';

process.env.COMPACTLM_LOG_LEVEL ??= 'warn';
configureLogger({ json: false, verbose: false });
const teacherPreset = process.env.BENCH_TEACHER ?? 'mini';
const studentPreset = process.env.BENCH_STUDENT ?? 'tiny';
const steps = Number(process.env.BENCH_STEPS ?? 12);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const B = Number(process.env.BENCH_B ?? 16);
const T = Number(process.env.BENCH_T ?? 128);
const warm = 3;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median ms/step of a run's timed steps, and the medians of its --profile phases. */
const stepRows = (out) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'loss' in r).slice(warm, -1);
const medianMs = (out) => median(stepRows(out).map((r) => (B * T * 1000) / r.tokens_per_s));
const medianPhase = (out, key) => median(stepRows(out).map((r) => r[key]));

/**
 * The teacher's forward pass alone, as distillation runs it: logits at the scored slots of a masked batch (15% of
 * the tokens, packed: microBatch feeds only those), on random ids. Median of 8 after 3.
 */
async function teacherForwardMs(config, weights) {
  const M = defaultMaxPredictions(T);
  const teacher = await weightsMaskedLogits(config, weights, { batchSize: B, seqLen: T, maxPredictions: M }, { threads });
  const rng = new Rng(2);
  const feeds = () => {
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 101 : i % T === T - 1 ? 102 : 1000 + rng.int(29000)));
    const mlm = maskBatch({ batchSize: B, seqLen: T, ids, attentionMask: new Uint8Array(B * T).fill(1) }, rng, { vocabSize: config.vocab_size, maxPredictions: M });
    return microBatch(mlm, 0, B);
  };
  const ms = [];
  for (let i = 0; i < 11; i++) {
    const f = feeds();
    const t0 = performance.now();
    await teacher.run(f);
    if (i >= 3) ms.push(performance.now() - t0);
  }
  await teacher.release();
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)];
}

const dir = mkdtempSync(join(tmpdir(), 'bench-distill-'));
try {
  const teacherConfig = makeConfig(teacherPreset);
  await saveModelFolder(join(dir, 'teacher'), teacherConfig, initParams(teacherConfig, new Rng(1)), { writeExtraFiles: writeTokenizerFiles });
  const common = {
    train: 'datasets/prose.csv', steps: 1000, stopAfter: steps, batchSize: B, seqLen: T, lr: 5e-4, warmup: 0.06, schedule: 'linear',
    weightDecay: 0.01, gradAccum: 1, evalEvery: 1000, saveEvery: 1000, seed: 1, threads, profile: true,
  };
  await distill({ ...common, teacher: join(dir, 'teacher'), studentPreset, out: join(dir, 'distill') });
  await pretrain({ ...common, preset: studentPreset, loss: 'ce', out: join(dir, 'pretrain') });
  const [d, p] = [medianMs(join(dir, 'distill')), medianMs(join(dir, 'pretrain'))];
  const teacherMs = await teacherForwardMs(teacherConfig, initParams(teacherConfig, new Rng(1)));
  // The student's compiled step inside each run (worker session time): the distillation loss's own cost is the gap.
  const [dSession, pSession] = [medianPhase(join(dir, 'distill'), 'profile_worker_session_ms'), medianPhase(join(dir, 'pretrain'), 'profile_worker_session_ms')];
  const teacherInRun = medianPhase(join(dir, 'distill'), 'profile_after_step_ms');
  console.log(JSON.stringify({
    bench: 'distill', teacher: teacherPreset, student: studentPreset, batch_size: B, seq_len: T, threads, steps: steps - warm - 1,
    ms_per_step: +d.toFixed(1), tokens_per_s: Math.round((B * T * 1000) / d), pretrain_ms_per_step: +p.toFixed(1),
    teacher_overhead: +(d / p).toFixed(2), teacher_forward_ms: +teacherMs.toFixed(1),
    vs_student_plus_teacher: +(d / (p + teacherMs)).toFixed(3), goal: 'distill step <= 1.1x (student step + teacher forward)',
    student_session_ms: +dSession.toFixed(1), pretrain_session_ms: +pSession.toFixed(1), kd_loss_ms: +(dSession - pSession).toFixed(1),
    teacher_in_run_ms: +teacherInRun.toFixed(1), vs_student_distill_step_plus_teacher: +(d / (dSession + teacherMs)).toFixed(3),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
