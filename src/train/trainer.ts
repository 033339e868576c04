/**
 * The trainer: a model-agnostic step loop (minGPT style) over compiled ONNX step graphs, run in a worker thread.
 * It knows nothing about BERT; it needs graphs that follow the step protocol below, a source of batches and the
 * initial parameters. Everything model-specific (masking, dropout masks, which graphs) is the caller's.
 *
 *   const trainer = new Trainer({ graphs, params, init, source, evalFeeds, schedule, runDir, steps, ... });
 *   trainer.on('step', (row) => …).on('eval', (row) => …).on('checkpoint', (info) => …);
 *   const { params } = await trainer.run();
 *
 * Step protocol (the names artifacts.ts and grad-accum.ts use):
 *   train  inputs <p>, adam_m.<p>, adam_v.<p>, lr, step (1-based, float) + batch feeds;
 *          outputs loss, grad_norm, mlm_correct, mlm_count, new.<p>, new.adam_m.<p>, new.adam_v.<p>
 *   grad   (gradAccum > 1) inputs <p> + batch feeds; outputs loss_sum, mlm_count, mlm_correct, grad.<p>
 *   apply  (gradAccum > 1) inputs <p>, adam_m.<p>, adam_v.<p>, lr, step, grad.<p> (Σ), count (Σ mlm_count);
 *          outputs grad_norm and the new.* tensors
 *   eval   inputs <p> + batch feeds; outputs loss_sum, mlm_correct, mlm_count
 * Updated tensors stay in the worker: `new.<p>` becomes the next step's `<p>` there. Only scalars come back each
 * step; weights are copied out for checkpoints and at the end.
 *
 * Pipelining: while the worker runs step s, the main thread draws the batch of step s+1 (data order, masking and
 * dropout randomness all come from the source's seeded state).
 *
 * Checkpoints (every `saveEvery` steps and at the end; checkpoints.ts, crash-safe) hold model.safetensors,
 * optimizer.safetensors (adam_m.*, adam_v.*), trainer.json {step, source state taken right after that step's
 * batch was drawn, fingerprint, best validation loss} and the caller's extra files. `resume: true` restores all
 * of it from the latest checkpoint, so the resumed run ends with the same bytes as an uninterrupted one (ORT's
 * CPU kernels are deterministic run to run; 1 and 2 threads even gave the same bytes here, but resume on the same
 * kind of machine and --threads to be safe).
 *
 * Validation every `evalEvery` steps and at the end, on fixed feeds: val_loss = Σ loss_sum / Σ mlm_count,
 * val_ppl = exp(val_loss), val_mlm_acc = Σ mlm_correct / Σ mlm_count. metrics.jsonl gets one row per step and
 * one per evaluation (metrics.ts), each logged before that step's checkpoint is saved.
 */
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { serializeSafetensors, readSafetensors } from '../model/safetensors.js';
import { StepRunner, scalar } from '../runtime/step-runner.js';
import type { SessionConfig } from '../runtime/session.js';
import { f32, scalarF32, type WireFeeds, type WireTensor } from '../runtime/wire.js';
import { UserError } from '../util/errors.js';
import { Checkpoints, latestCheckpoint, type CheckpointInfo } from './checkpoints.js';
import { evalRow, MetricsLog, type EvalRow, type TrainRow } from './metrics.js';
import type { Schedule } from './schedule.js';

/** Where the batches come from; its state must be JSON-safe and restore the exact same future batches. */
export interface BatchSource {
  /**
   * Feeds of the next step's `k` micro-batches (batch inputs and per-step randomness; no parameters). May be async
   * (e.g. a teacher model's forward pass); it runs while the worker runs the previous step.
   */
  next(k: number): WireFeeds[] | Promise<WireFeeds[]>;
  /** Tokens in one micro-batch (B·T), for tokens/s. */
  readonly tokensPerMicroBatch: number;
  state(): unknown;
}

export interface StepGraphs {
  /** For gradAccum = 1. */
  train?: Uint8Array;
  /** For gradAccum > 1. */
  grad?: Uint8Array;
  apply?: Uint8Array;
  eval?: Uint8Array;
}

export interface TrainerOptions {
  graphs: StepGraphs;
  /** Trainable tensors, by graph input name, with their shapes. */
  params: { name: string; shape: number[] }[];
  /** Fresh parameters (called only when not resuming). */
  init: () => Map<string, Float32Array>;
  /** The batch source, new (state undefined) or restored from a checkpoint's state. */
  source: (state: unknown | undefined) => BatchSource;
  /** Fixed validation feeds (one entry per eval batch), or none. */
  evalFeeds?: WireFeeds[];
  schedule: Schedule;
  runDir: string;
  steps: number;
  gradAccum?: number;
  evalEvery?: number;
  saveEvery?: number;
  /** Checkpoints kept besides the best one (default 3). */
  keep?: number;
  resume?: boolean;
  /**
   * Stop after this step (a checkpoint is saved there) as if interrupted; `steps` still defines the schedule.
   * For tests of resuming and for time-boxed jobs.
   */
  stopAfter?: number;
  session?: SessionConfig;
  /** Settings that must not change across a resume (compared as JSON). */
  fingerprint?: Record<string, unknown>;
  /** Extra files for each checkpoint (e.g. config.json). */
  checkpointFiles?: () => Record<string, Uint8Array | string>;
}

export interface StepRow extends TrainRow {
  mlm_acc: number;
}

export interface TrainResult {
  params: Map<string, Float32Array>;
  /** adam_m.* and adam_v.* */
  moments: Map<string, Float32Array>;
  step: number;
  /** trainer.json content of the final state. */
  state: TrainerState;
  lastEval: EvalRow | null;
  resumedFrom: number | null;
}

export interface TrainerState {
  step: number;
  /** Total steps the run was planned with (the schedule depends on it). */
  steps: number;
  source: unknown;
  fingerprint: Record<string, unknown>;
  bestValLoss: number | null;
}

export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'trainer.json';
export const METRICS_FILE = 'metrics.jsonl';

/** `adam_m.<p>` / `adam_v.<p>` → `<p>`. */
const paramOf = (moment: string) => moment.replace(/^adam_[mv]\./, '');
const momentNames = (names: string[]) => [...names.map((n) => `adam_m.${n}`), ...names.map((n) => `adam_v.${n}`)];

export class Trainer extends EventEmitter {
  private runner: StepRunner | null = null;
  private trainedTokens = 0;
  private trainedMs = 0;

  constructor(readonly o: TrainerOptions) {
    super();
    const k = o.gradAccum ?? 1;
    if (!Number.isInteger(o.steps) || o.steps < 1) throw new UserError(`--steps must be a positive whole number, got ${o.steps}`);
    if (!Number.isInteger(k) || k < 1) throw new UserError(`--grad-accum must be a positive whole number, got ${k}`);
    if (k === 1 && !o.graphs.train) throw new Error('Trainer: gradAccum 1 needs a train graph');
    if (k > 1 && !(o.graphs.grad && o.graphs.apply)) throw new Error('Trainer: gradAccum > 1 needs grad and apply graphs');
  }

  get paramNames(): string[] {
    return this.o.params.map((p) => p.name);
  }

  get gradAccum(): number {
    return this.o.gradAccum ?? 1;
  }

  async run(): Promise<TrainResult> {
    const o = this.o;
    const k = this.gradAccum;
    const evalEvery = o.evalEvery ?? Math.max(1, Math.ceil(o.steps / 10));
    const saveEvery = o.saveEvery ?? evalEvery;
    const fingerprint = o.fingerprint ?? {};

    // 1. Where we start: a checkpoint or fresh weights.
    let start = 0;
    let sourceState: unknown | undefined;
    let bestValLoss: number | null = null;
    let params: Map<string, Float32Array>;
    let moments: Map<string, Float32Array>;
    let resumedFrom: CheckpointInfo | null = null;
    if (o.resume) {
      resumedFrom = await latestCheckpoint(o.runDir);
      if (!resumedFrom) throw new UserError(`--resume: no checkpoint in ${join(o.runDir, 'checkpoints')} (start without --resume)`);
      const state = JSON.parse(await fsp.readFile(join(resumedFrom.dir, STATE_FILE), 'utf8')) as TrainerState;
      checkFingerprint(state.fingerprint, fingerprint, resumedFrom.dir);
      if (state.steps !== o.steps) {
        this.emit('warning', `resuming a run planned for ${state.steps} steps with --steps ${o.steps}: the learning-rate schedule changes from here on`);
      }
      start = state.step;
      if (start > o.steps) throw new UserError(`--resume: the latest checkpoint (${resumedFrom.dir}) is at step ${start}, beyond --steps ${o.steps}`);
      sourceState = state.source;
      bestValLoss = state.bestValLoss;
      params = await readTensors(join(resumedFrom.dir, MODEL_FILE), this.paramNames);
      moments = await readTensors(join(resumedFrom.dir, OPTIMIZER_FILE), momentNames(this.paramNames));
      this.emit('resume', { step: start, dir: resumedFrom.dir });
    } else {
      params = o.init();
      moments = new Map(momentNames(this.paramNames).map((n) => [n, new Float32Array(params.get(paramOf(n))?.length ?? 0)]));
    }
    const dims = new Map(o.params.map((p) => [p.name, p.shape]));
    for (const [n, shape] of dims) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (params.get(n)?.length !== size) throw new Error(`Trainer: initial value of ${n} missing or not of shape [${shape}]`);
    }

    // 2. The worker with its sessions; the state tensors move into it (transferred, not copied).
    const sessions: Record<string, Uint8Array> = {};
    if (k === 1) sessions.train = o.graphs.train!;
    else Object.assign(sessions, { grad: o.graphs.grad!, apply: o.graphs.apply! });
    if (o.graphs.eval && o.evalFeeds?.length) sessions.eval = o.graphs.eval;
    const runner = await StepRunner.start(sessions, o.session);
    this.runner = runner;
    try {
      const initial: WireFeeds = {};
      for (const [n, data] of params) initial[n] = f32(data, dims.get(n)!);
      for (const [n, data] of moments) initial[n] = f32(data, dims.get(paramOf(n))!);
      await runner.set(initial);
      params.clear();
      moments.clear();

      await fsp.mkdir(o.runDir, { recursive: true }); // only now: a failed start leaves no folder behind
      const metrics = await MetricsLog.open(join(o.runDir, METRICS_FILE), { resumeStep: o.resume ? start : undefined });
      const ckpts = new Checkpoints(o.runDir, { keep: o.keep ?? 3 });
      const source = o.source(sourceState);
      let lastEval: EvalRow | null = null;
      let lastState: TrainerState = { step: start, steps: o.steps, source: sourceState ?? source.state(), fingerprint, bestValLoss };
      try {
        // 3. The loop. `feeds`/`drawn` are the next step's batch and the source state right after drawing it.
        const end = Math.min(o.steps, o.stopAfter ?? o.steps);
        let feeds = start < end ? await source.next(k) : [];
        let drawn = source.state();
        let t0 = performance.now();
        for (let step = start; step < end; ) {
          const lr = o.schedule.lr(step);
          const running = this.runStep(feeds, lr, step + 1);
          running.catch(() => {}); // awaited below; if drawing the next batch throws first, that error is the one reported
          const stateAfter = drawn;
          if (step + 1 < end) {
            feeds = await source.next(k); // overlaps with the step in the worker
            drawn = source.state();
          }
          const out = await running;
          step++;
          const t1 = performance.now();
          const row: StepRow = {
            step,
            loss: out.loss,
            lr,
            grad_norm: out.gradNorm,
            mlm_acc: out.count > 0 ? out.correct / out.count : 0,
            tokens_per_s: (k * source.tokensPerMicroBatch * 1000) / Math.max(t1 - t0, 1e-3),
          };
          this.trainedTokens += k * source.tokensPerMicroBatch;
          this.trainedMs += t1 - t0;
          t0 = t1;
          if (!Number.isFinite(out.loss)) {
            throw new UserError(`training diverged at step ${step}: loss is ${out.loss} (try a lower --lr or more --warmup)`);
          }
          metrics.append(row);
          this.emit('step', row);

          let valLoss: number | null = null;
          if (sessions.eval && (step % evalEvery === 0 || step === o.steps)) {
            lastEval = await this.evaluate(step, o.evalFeeds!);
            valLoss = lastEval.val_loss;
            if (bestValLoss === null || valLoss < bestValLoss) bestValLoss = valLoss;
            metrics.append(lastEval);
            this.emit('eval', lastEval);
            t0 = performance.now(); // evaluation time is not training throughput
          }
          lastState = { step, steps: o.steps, source: stateAfter, fingerprint, bestValLoss };
          if (step % saveEvery === 0 || step === end) {
            const info = await this.saveCheckpoint(ckpts, lastState, valLoss);
            this.emit('checkpoint', info);
            t0 = performance.now();
          }
        }
      } finally {
        metrics.close();
      }

      // 4. The final weights (and moments, for training_state/).
      const all = await runner.get([...this.paramNames, ...momentNames(this.paramNames)]);
      const finalParams = new Map(this.paramNames.map((n) => [n, all[n].data as Float32Array]));
      const finalMoments = new Map(momentNames(this.paramNames).map((n) => [n, all[n].data as Float32Array]));
      if (lastEval === null && sessions.eval && resumedFrom) lastEval = await this.evaluate(lastState.step, o.evalFeeds!);
      return { params: finalParams, moments: finalMoments, step: lastState.step, state: lastState, lastEval, resumedFrom: resumedFrom?.step ?? null };
    } finally {
      this.runner = null;
      await runner.close();
      this.emit('end');
    }
  }

  /** Training tokens per second over the steps run so far (evaluation and checkpoint time excluded). */
  get meanTokensPerSecond(): number {
    return this.trainedMs > 0 ? (this.trainedTokens * 1000) / this.trainedMs : 0;
  }

  /** One optimizer step over k micro-batches; all requests are queued at once, the worker runs them in order. */
  private async runStep(feeds: WireFeeds[], lr: number, t: number): Promise<{ loss: number; gradNorm: number; correct: number; count: number }> {
    const runner = this.runner!;
    const names = this.paramNames;
    const keep: Record<string, string> = {};
    for (const n of names) {
      keep[`new.${n}`] = n;
      keep[`new.adam_m.${n}`] = `adam_m.${n}`;
      keep[`new.adam_v.${n}`] = `adam_v.${n}`;
    }
    const hyper = { lr: scalarF32(lr), step: scalarF32(t) };
    if (feeds.length === 1 && this.gradAccum === 1) {
      const out = await runner.run('train', { ...feeds[0], ...hyper }, { fetch: ['loss', 'grad_norm', 'mlm_correct', 'mlm_count'], keep });
      return { loss: scalar(out.loss), gradNorm: scalar(out.grad_norm), correct: scalar(out.mlm_correct), count: scalar(out.mlm_count) };
    }
    const accumulate: Record<string, string> = { mlm_count: 'count' };
    for (const n of names) accumulate[`grad.${n}`] = `grad.${n}`;
    const micro = feeds.map((f, j) =>
      runner.run('grad', f, { fetch: ['loss_sum', 'mlm_count', 'mlm_correct'], accumulate: { outputs: accumulate, scale: 1, reset: j === 0 } }),
    );
    const applied = runner.run('apply', hyper, { fetch: ['grad_norm'], keep });
    const [outs, applyOut] = await Promise.all([Promise.all(micro), applied]);
    let lossSum = 0;
    let count = 0;
    let correct = 0;
    for (const out of outs) {
      lossSum += scalar(out.loss_sum);
      count += scalar(out.mlm_count);
      correct += scalar(out.mlm_correct);
    }
    return { loss: lossSum / Math.max(count, 1), gradNorm: scalar(applyOut.grad_norm), correct, count };
  }

  private async evaluate(step: number, batches: WireFeeds[]): Promise<EvalRow> {
    const runner = this.runner!;
    // Copies: run() transfers (detaches) what it sends, and these feeds are reused at every evaluation.
    const outs = await Promise.all(batches.map((b) => runner.run('eval', copyFeeds(b), { fetch: ['loss_sum', 'mlm_correct', 'mlm_count'] })));
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const out of outs) {
      lossSum += scalar(out.loss_sum);
      correct += scalar(out.mlm_correct);
      count += scalar(out.mlm_count);
    }
    if (count === 0) throw new UserError('the validation set has no tokens to predict (it is too small or all padding)');
    return evalRow(step, lossSum / count, correct / count);
  }

  private async saveCheckpoint(ckpts: Checkpoints, state: TrainerState, valLoss: number | null): Promise<CheckpointInfo> {
    const names = this.paramNames;
    const got = await this.runner!.get([...names, ...momentNames(names)]);
    const files: Record<string, Uint8Array | string> = {
      [MODEL_FILE]: serializeSafetensors(names.map((n) => tensorOf(n, got[n]))),
      [OPTIMIZER_FILE]: serializeSafetensors(momentNames(names).map((n) => tensorOf(n, got[n]))),
      [STATE_FILE]: JSON.stringify(state, null, 2) + '\n',
      ...(this.o.checkpointFiles?.() ?? {}),
    };
    return ckpts.save(state.step, files, { valLoss });
  }
}

function tensorOf(name: string, t: WireTensor) {
  return { name, shape: t.dims, data: t.data as Float32Array };
}

function copyFeeds(f: WireFeeds): WireFeeds {
  const out: WireFeeds = {};
  for (const [k, t] of Object.entries(f)) out[k] = { ...t, data: t.data.slice() as typeof t.data };
  return out;
}

async function readTensors(path: string, names: string[]): Promise<Map<string, Float32Array>> {
  const { tensors } = await readSafetensors(path);
  const out = new Map<string, Float32Array>();
  for (const n of names) {
    const t = tensors.get(n);
    if (!t) throw new UserError(`${path}: checkpoint has no tensor ${n} (was it made with another model config?)`);
    out.set(n, t.data);
  }
  return out;
}

function checkFingerprint(saved: Record<string, unknown>, now: Record<string, unknown>, dir: string): void {
  for (const key of new Set([...Object.keys(saved ?? {}), ...Object.keys(now)])) {
    const a = JSON.stringify(saved?.[key]);
    const b = JSON.stringify(now[key]);
    if (a !== b) throw new UserError(`--resume: ${key} is ${b} now but ${a} in the checkpoint ${dir}; resume with the same settings`);
  }
}
