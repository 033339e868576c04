/**
 * The trainer: a model-agnostic step loop (minGPT style) over compiled ONNX step graphs, run in a worker thread.
 * It knows nothing about BERT; it needs graphs that follow the step protocol below, a source of batches and the
 * initial parameters. Everything model-specific (masking, dropout masks, which graphs) is the caller's.
 *
 *   const trainer = new Trainer({ graphs, params, init, source, evalFeeds, schedule, runDir, steps, ... });
 *   trainer.on('step', (row) => …).on('eval', (row) => …).on('checkpoint', (info) => …);
 *   const { params } = await trainer.run();
 *
 * The step graphs come from model/step-compiler.ts, and their IO spec is all the trainer reads: which inputs are
 * state (parameters, optimizer moments) and which output replaces each after a step, which are batch feeds, which
 * outputs to sum across micro-batches (gradient accumulation), and which scalar outputs are the loss, the gradient
 * norm and the ratio metrics. State tensors stay in the worker; only those scalars come back each step; weights
 * are copied out for checkpoints and at the end.
 *
 * Pipelining: while the worker runs step s, the main thread draws the batch of step s+1 (data order, masking and
 * dropout randomness all come from the source's seeded state); a source that computes (`drawAfterStep`) draws
 * after the step instead.
 *
 * Checkpoints (every `saveEvery` steps and at the end; checkpoints.ts, crash-safe) hold model.safetensors,
 * optimizer.safetensors (adam_m.*, adam_v.*), trainer.json {step, source state taken right after that step's
 * batch was drawn, fingerprint, best validation loss} and the caller's extra files. `resume: true` restores all
 * of it from the latest checkpoint, so the resumed run ends with the same bytes as an uninterrupted one (ORT's
 * CPU kernels are deterministic run to run; 1 and 2 threads even gave the same bytes here, but resume on the same
 * kind of machine and --threads to be safe).
 *
 * Validation every `evalEvery` steps and at the end, on fixed feeds: val_loss = Σ loss_sum / Σ count,
 * val_ppl = exp(val_loss) for token losses, and val_<metric> = Σ numerator / Σ count for each ratio metric of the
 * loss (masked LM: val_mlm_acc = Σ mlm_correct / Σ mlm_count). metrics.jsonl gets one row per step and
 * one per evaluation (metrics.ts), each logged before that step's checkpoint is saved.
 */
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, safetensorsParts } from '../model/safetensors.js';
import { StepRunner, scalar } from '../runtime/step-runner.js';
import type { SessionConfig } from '../runtime/session.js';
import type { RunTiming } from '../runtime/step-worker.js';
import { f32, scalarF32, type WireFeeds, type WireTensor } from '../runtime/wire.js';
import { WEIGHTS_FILE } from '../model/checkpoint-folder.js';
import type { CompiledStep, IoSpec, StateTensor } from '../model/step-compiler.js';
import { UserError } from '../util/errors.js';
import { Checkpoints, nothingToResume, type CheckpointFile, type CheckpointInfo } from './checkpoints.js';
import { workerCountProblem } from './worker-count.js';
import { evalRow, MetricsLog, type EvalRow, type TrainRow } from './metrics.js';
import type { Schedule } from './schedule.js';

/** Where the batches come from; its state must be JSON-safe and restore the exact same future batches. */
export interface BatchSource {
  /**
   * Feeds of the next step's `k` micro-batches (batch inputs and per-step randomness; no parameters); drawn while
   * the worker runs the previous step.
   */
  next(k: number): WireFeeds[] | Promise<WireFeeds[]>;
  /**
   * Completes drawn feeds once the step before them is done: work that runs a model of its own (a distillation
   * teacher's forward pass), whose session would contend with the step's for the same cores if run during it.
   */
  afterStep?(feeds: WireFeeds[]): Promise<WireFeeds[]>;
  /** Tokens in one micro-batch (B·T), for tokens/s. */
  readonly tokensPerMicroBatch: number;
  state(): unknown;
}

export interface StepGraphs {
  /** For gradAccum = 1. */
  train?: CompiledStep;
  /** For gradAccum > 1. */
  grad?: CompiledStep;
  apply?: CompiledStep;
  eval?: CompiledStep;
}

export interface TrainerOptions {
  graphs: StepGraphs;
  /** Fresh parameters by name, for the update step's 'param' state (called only when not resuming). */
  init: () => Map<string, Float32Array>;
  /** The batch source, new (state undefined) or restored from a checkpoint's state. */
  source: (state: unknown | undefined) => BatchSource;
  /** Fixed validation feeds (one entry per eval batch), or none. */
  evalFeeds?: WireFeeds[];
  schedule: Schedule;
  runDir: string;
  steps: number;
  gradAccum?: number;
  /**
   * Data parallelism: worker threads that each compute the gradients of some of a step's micro-batches (round-robin)
   * on their own copy of the weights; the first sums them and applies the update, then sends the new weights to the
   * others. Needs gradAccum ≥ workers. Each worker's session gets `session.threads` threads (default 1). Same
   * result as one worker up to the rounding of the gradient sum (the same bytes with gradAccum = workers = 2).
   */
  workers?: number;
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
  /**
   * Per-phase timing of every step in its metrics row (ms): profile_draw_ms (the next batch, main thread, overlapping
   * the step), profile_wait_ms (waiting for the worker after that), profile_after_step_ms (the source's afterStep
   * work, e.g. a teacher's forward pass, when it has some), profile_worker_{feed,session,outputs}_ms (in the
   * worker), profile_step_ms (the whole step, wall clock).
   */
  profile?: boolean;
  session?: SessionConfig;
  /** Settings that must not change across a resume (compared as JSON). */
  fingerprint?: Record<string, unknown>;
  /** Extra files for each checkpoint (e.g. config.json). */
  checkpointFiles?: () => Record<string, Uint8Array | string>;
  /**
   * Metrics computed from the eval graph's `logits` output over all validation batches, in feed order (e.g.
   * val_macro_f1 of a classifier), merged into each eval row. Needs an eval graph whose IO spec names its logits.
   */
  evalMetrics?: (logits: Float32Array[]) => Record<string, number>;
  /** The eval row value that picks the best checkpoint (default val_loss, lower is better). */
  select?: { metric: string; mode: 'min' | 'max' };
  /** Stop (checkpointed) after this many evaluations in a row without a better selection score. */
  earlyStop?: number;
}

/** A training row: loss, lr, grad_norm, tokens_per_s and the loss's ratio metrics on the batch (e.g. mlm_acc). */
export type StepRow = TrainRow & Record<string, number>;

export interface TrainResult {
  params: Map<string, Float32Array>;
  /** The optimizer's state tensors (AdamW: adam_m.*, adam_v.*). */
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
  /** Best selection score so far (see `select`) and evaluations since it, for early stopping. */
  bestScore?: number | null;
  sinceBest?: number;
}

export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'trainer.json';
export const METRICS_FILE = 'metrics.jsonl';

interface StepOut {
  loss: number;
  gradNorm: number;
  ratios: Record<string, number>;
}

export class Trainer extends EventEmitter {
  private runner: StepRunner | null = null;
  /** The other data-parallel workers (gradients only; see `workers`). */
  private replicas: StepRunner[] = [];
  private trainedTokens = 0;
  private trainedMs = 0;
  /** What every update step keeps (new.w → w) and which of those it writes in place: fixed by the graphs. */
  private readonly writes: { keep: Record<string, string>; inPlace: string[] };

  constructor(readonly o: TrainerOptions) {
    super();
    const k = o.gradAccum ?? 1;
    if (k === 1 && !o.graphs.train) throw new Error('Trainer: gradAccum 1 needs a train graph');
    if (k > 1 && !(o.graphs.grad && o.graphs.apply)) throw new Error('Trainer: gradAccum > 1 needs grad and apply graphs');
    const workersProblem = workerCountProblem(o.workers ?? 1, k);
    if (workersProblem) throw new UserError(workersProblem);
    const replaced = this.update.state.filter((s) => s.next);
    this.writes = {
      keep: Object.fromEntries(replaced.map((s) => [s.next!, s.name])),
      inPlace: replaced.filter((s) => s.inPlace).map((s) => s.next!),
    };
  }

  /** The step that updates the state: train, or apply after accumulation. */
  private get update(): IoSpec {
    return (this.gradAccum === 1 ? this.o.graphs.train! : this.o.graphs.apply!).io;
  }

  private stateOf(role: StateTensor['role']): StateTensor[] {
    return this.update.state.filter((s) => s.role === role);
  }

  get paramNames(): string[] {
    return this.stateOf('param').map((s) => s.name);
  }

  private get momentNames(): string[] {
    return this.stateOf('moment').map((s) => s.name);
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
    let best = { score: null as number | null, since: 0 };
    let params: Map<string, Float32Array>;
    let moments: Map<string, Float32Array>;
    let resumedFrom: CheckpointInfo | null = null;
    if (o.resume) {
      const { checkpoint, damaged } = await new Checkpoints(o.runDir).resumable();
      for (const d of damaged) {
        this.emit('warning', `checkpoint ${d.dir} is damaged (${d.problem}): ${checkpoint ? `resuming from step ${checkpoint.step} (${checkpoint.dir})` : 'trying an older one'}`);
      }
      if (!checkpoint) throw nothingToResume(o.runDir, damaged);
      resumedFrom = checkpoint;
      const statePath = join(resumedFrom.dir, STATE_FILE);
      let state: TrainerState;
      try {
        state = JSON.parse(await fsp.readFile(statePath, 'utf8')) as TrainerState;
      } catch (e) {
        throw new UserError(`${statePath}: not a trainer state (${(e as Error).message})`);
      }
      checkFingerprint(state.fingerprint, fingerprint, resumedFrom.dir);
      if (state.steps !== o.steps) {
        this.emit('warning', `resuming a run planned for ${state.steps} steps with --steps ${o.steps}: the learning-rate schedule changes from here on`);
      }
      start = state.step;
      if (start > o.steps) throw new UserError(`${resumedFrom.dir}: the latest checkpoint is at step ${start}, beyond the ${o.steps} steps planned`);
      sourceState = state.source;
      bestValLoss = state.bestValLoss;
      best = { score: state.bestScore ?? null, since: state.sinceBest ?? 0 };
      params = await readTensors(join(resumedFrom.dir, WEIGHTS_FILE), this.paramNames);
      moments = await readTensors(join(resumedFrom.dir, OPTIMIZER_FILE), this.momentNames);
      this.emit('resume', { step: start, dir: resumedFrom.dir });
    } else {
      params = o.init();
      moments = new Map(this.stateOf('moment').map((s) => [s.name, new Float32Array(numel(s.shape))]));
    }
    const dims = new Map(this.update.state.map((s) => [s.name, s.shape]));
    for (const s of this.update.state) {
      const data = s.role === 'param' ? params.get(s.name) : moments.get(s.name);
      if (data?.length !== numel(s.shape)) throw new Error(`Trainer: initial value of ${s.name} missing or not of shape [${s.shape}]`);
    }

    // 2. The worker with its sessions; the state tensors move into it (transferred, not copied).
    const sessions: Record<string, Uint8Array> = {};
    if (k === 1) sessions.train = o.graphs.train!.bytes;
    else Object.assign(sessions, { grad: o.graphs.grad!.bytes, apply: o.graphs.apply!.bytes });
    if (o.graphs.eval && o.evalFeeds?.length) sessions.eval = o.graphs.eval.bytes;
    const workers = o.workers ?? 1;
    const session = workers > 1 ? { ...o.session, threads: o.session?.threads ?? 1 } : o.session;
    const runner = await StepRunner.start(sessions, session);
    this.runner = runner;
    try {
      const replicaSessions: Record<string, Uint8Array> = sessions.eval ? { grad: sessions.grad, eval: sessions.eval } : { grad: sessions.grad };
      for (let w = 1; w < workers; w++) {
        const replica = await StepRunner.start(replicaSessions, session);
        this.replicas.push(replica);
        await replica.set(Object.fromEntries(this.paramNames.map((n) => [n, f32(params.get(n)!.slice(), dims.get(n)!)])));
      }
      const initial: WireFeeds = {};
      for (const [n, data] of [...params, ...moments]) initial[n] = f32(data, dims.get(n)!);
      await runner.set(initial);
      params.clear();
      moments.clear();

      await fsp.mkdir(o.runDir, { recursive: true }); // only now: a failed start leaves no folder behind
      const metrics = await MetricsLog.open(join(o.runDir, METRICS_FILE), { resumeStep: o.resume ? start : undefined });
      const ckpts = new Checkpoints(o.runDir, { keep: o.keep ?? 3 });
      const source = o.source(sourceState);
      let lastEval: EvalRow | null = null;
      let lastState: TrainerState = { step: start, steps: o.steps, source: sourceState ?? source.state(), fingerprint, bestValLoss, bestScore: best.score, sinceBest: best.since };
      try {
        // 3. The loop. `feeds`/`drawn` are the next step's batch and the source state right after drawing it.
        const stoppedEarly = o.earlyStop !== undefined && best.since >= o.earlyStop; // a resumed run that had stopped
        const end = stoppedEarly ? start : Math.min(o.steps, o.stopAfter ?? o.steps);
        let feeds = start < end ? await complete(source, await source.next(k)) : [];
        let drawn = source.state();
        let t0 = performance.now();
        for (let step = start; step < end; ) {
          const lr = o.schedule.lr(step);
          const running = this.runStep(feeds, lr, step + 1);
          running.catch(() => {}); // awaited below; if drawing the next batch throws first, that error is the one reported
          const stateAfter = drawn;
          const tDraw = performance.now();
          if (step + 1 < end) {
            feeds = await source.next(k); // overlaps with the step in the worker, unless it is done already
            drawn = source.state();
          }
          const tWait = performance.now();
          const out = await running;
          const tAfter = performance.now();
          if (step + 1 < end) feeds = await complete(source, feeds);
          step++;
          const t1 = performance.now();
          const row: StepRow = {
            step,
            loss: out.loss,
            lr,
            grad_norm: out.gradNorm,
            ...out.ratios,
            tokens_per_s: (k * source.tokensPerMicroBatch * 1000) / Math.max(t1 - t0, 1e-3),
            ...(o.profile ? profileRow({ t0, tDraw, tWait, tAfter, t1 }, runner.takeTiming(), !!source.afterStep) : {}),
          };
          this.trainedTokens += k * source.tokensPerMicroBatch;
          this.trainedMs += t1 - t0;
          t0 = t1;
          if (!Number.isFinite(out.loss)) {
            throw new UserError(`training diverged at step ${step}: loss is ${out.loss} (try a lower --lr or more --warmup)`);
          }
          metrics.append(row);
          this.emit('step', row);

          let score: number | null = null;
          if (sessions.eval && (step % evalEvery === 0 || step === o.steps)) {
            lastEval = await this.evaluate(step, o.evalFeeds!);
            const valLoss = lastEval.val_loss;
            score = selectionScore(lastEval, o.select);
            if (bestValLoss === null || valLoss < bestValLoss) bestValLoss = valLoss;
            best = best.score === null || score < best.score ? { score, since: 0 } : { score: best.score, since: best.since + 1 };
            metrics.append(lastEval);
            this.emit('eval', lastEval);
            t0 = performance.now(); // evaluation time is not training throughput
            runner.takeTiming();
          }
          lastState = { step, steps: o.steps, source: stateAfter, fingerprint, bestValLoss, bestScore: best.score, sinceBest: best.since };
          const stopping = o.earlyStop !== undefined && score !== null && best.since >= o.earlyStop;
          if (step % saveEvery === 0 || step === end || stopping) {
            const info = await this.saveCheckpoint(ckpts, lastState, score);
            this.emit('checkpoint', info);
            t0 = performance.now();
            runner.takeTiming();
          }
          if (stopping) {
            this.emit('early-stop', { step, evals: best.since });
            break;
          }
        }
      } finally {
        metrics.close();
      }

      // 4. The final weights (and moments, for training_state/).
      const all = await runner.get([...this.paramNames, ...this.momentNames]);
      const finalParams = new Map(this.paramNames.map((n) => [n, all[n].data as Float32Array]));
      const finalMoments = new Map(this.momentNames.map((n) => [n, all[n].data as Float32Array]));
      if (lastEval === null && sessions.eval && resumedFrom) lastEval = await this.evaluate(lastState.step, o.evalFeeds!);
      return { params: finalParams, moments: finalMoments, step: lastState.step, state: lastState, lastEval, resumedFrom: resumedFrom?.step ?? null };
    } finally {
      this.runner = null;
      await Promise.all([runner, ...this.replicas].map((r) => r.close()));
      this.replicas = [];
      this.emit('end');
    }
  }

  /** Training tokens per second over the steps run so far (evaluation and checkpoint time excluded). */
  get meanTokensPerSecond(): number {
    return this.trainedMs > 0 ? (this.trainedTokens * 1000) / this.trainedMs : 0;
  }

  /** One optimizer step over k micro-batches; all requests are queued at once, the worker runs them in order. */
  private async runStep(feeds: WireFeeds[], lr: number, t: number): Promise<StepOut> {
    const runner = this.runner!;
    const update = this.update;
    const { keep, inPlace } = this.writes;
    const hyper: WireFeeds = {};
    for (const h of update.hyper) hyper[h.name] = scalarF32(h.name === 'lr' ? lr : t);
    if (this.gradAccum === 1) {
      const m = update.metrics;
      const out = await runner.run('train', { ...feeds[0], ...hyper }, { fetch: [m.loss!, m.gradNorm!, ...countAndNumerators(update)], keep, inPlace });
      return { loss: scalar(out[m.loss!]), gradNorm: scalar(out[m.gradNorm!]), ratios: ratiosOf(update, [out]) };
    }
    const grad = this.o.graphs.grad!.io;
    const workers = [runner, ...this.replicas];
    const fetch = [grad.metrics.lossSum!, ...countAndNumerators(grad)];
    const micro = feeds.map((f, j) =>
      workers[j % workers.length].run('grad', f, { fetch, accumulate: { outputs: grad.accumulate, scale: 1, reset: j < workers.length } }),
    );
    // The replicas' gradient sums join the first worker's, in worker order, before it applies the update.
    const sums = Object.values(grad.accumulate);
    for (const replica of this.replicas) await runner.add(await replica.get(sums));
    const applied = runner.run('apply', hyper, { fetch: [update.metrics.gradNorm!], keep, inPlace });
    const [outs, applyOut] = await Promise.all([Promise.all(micro), applied]);
    if (this.replicas.length > 0) await this.broadcastParams();
    const { lossSum, count } = sumsOf(grad, outs);
    return { loss: lossSum / Math.max(count, 1), gradNorm: scalar(applyOut[update.metrics.gradNorm!]), ratios: ratiosOf(grad, outs) };
  }

  /** The updated weights, from the first worker to the replicas (one copy out, transferred to the last replica). */
  private async broadcastParams(): Promise<void> {
    const fresh = await this.runner!.get(this.paramNames);
    await Promise.all(this.replicas.map((r, i) => r.set(i === this.replicas.length - 1 ? fresh : copyFeeds(fresh))));
  }

  private async evaluate(step: number, batches: WireFeeds[]): Promise<EvalRow> {
    const runner = this.runner!;
    const io = this.o.graphs.eval!.io;
    // Copies: run() transfers (detaches) what it sends, and these feeds are reused at every evaluation.
    const logits = this.o.evalMetrics ? io.metrics.logits : undefined;
    if (this.o.evalMetrics && !logits) throw new Error('Trainer: evalMetrics needs an eval graph with a logits output');
    const fetch = [io.metrics.lossSum!, ...countAndNumerators(io), ...(logits ? [logits] : [])];
    const workers = [runner, ...this.replicas];
    const outs = await Promise.all(batches.map((b, i) => workers[i % workers.length].run('eval', copyFeeds(b), { fetch })));
    const { lossSum, count } = sumsOf(io, outs);
    if (count === 0) throw new UserError('the validation set has nothing to predict (it is too small or all padding)');
    const row = evalRow(step, lossSum / count, ratiosOf(io, outs), io.metrics.perplexity);
    if (logits) Object.assign(row, this.o.evalMetrics!(outs.map((out) => out[logits].data as Float32Array)));
    return row;
  }

  private async saveCheckpoint(ckpts: Checkpoints, state: TrainerState, score: number | null): Promise<CheckpointInfo> {
    // Weights, then moments, each copied out of the worker only when its file is written: at most the moments'
    // copy is held at once, never a second one for the file.
    const file = (names: string[]) => async () => {
      const got = await this.runner!.get(names);
      return safetensorsParts(names.map((n) => tensorOf(n, got[n])));
    };
    const files: Record<string, CheckpointFile> = {
      [WEIGHTS_FILE]: file(this.paramNames),
      [OPTIMIZER_FILE]: file(this.momentNames),
      [STATE_FILE]: JSON.stringify(state, null, 2) + '\n',
      ...(this.o.checkpointFiles?.() ?? {}),
    };
    return ckpts.save(state.step, files, { score });
  }
}

/** Feeds the source has drawn, completed by its afterStep work (if any). */
const complete = (source: BatchSource, feeds: WireFeeds[]): Promise<WireFeeds[]> | WireFeeds[] => (source.afterStep ? source.afterStep(feeds) : feeds);

/** The --profile fields of a step row, rounded to 0.01 ms. */
function profileRow(t: { t0: number; tDraw: number; tWait: number; tAfter: number; t1: number }, worker: RunTiming, afterStep: boolean): Record<string, number> {
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    profile_step_ms: r(t.t1 - t.t0),
    profile_draw_ms: r(t.tWait - t.tDraw),
    profile_wait_ms: r(t.tAfter - t.tWait),
    ...(afterStep ? { profile_after_step_ms: r(t.t1 - t.tAfter) } : {}),
    profile_worker_feed_ms: r(worker.feed_ms),
    profile_worker_session_ms: r(worker.session_ms),
    profile_worker_outputs_ms: r(worker.outputs_ms),
  };
}

/** The checkpoint's score, lower is better: the selected eval metric (negated when higher is better). */
function selectionScore(row: EvalRow, select: TrainerOptions['select']): number {
  if (!select) return row.val_loss;
  const v = row[select.metric];
  if (typeof v !== 'number') throw new Error(`Trainer: select metric ${select.metric} is not in the eval row`);
  return select.mode === 'max' ? -v : v;
}

/** The count and the numerator of every ratio metric (what to fetch besides the loss). */
function countAndNumerators(io: IoSpec): string[] {
  return [io.metrics.count!, ...Object.values(io.metrics.ratios)];
}

function sumsOf(io: IoSpec, outs: Record<string, WireTensor>[]): { lossSum: number; count: number } {
  let lossSum = 0;
  let count = 0;
  for (const out of outs) {
    if (io.metrics.lossSum) lossSum += scalar(out[io.metrics.lossSum]);
    count += scalar(out[io.metrics.count!]);
  }
  return { lossSum, count };
}

/** Σ numerator / Σ count of each ratio metric over the outputs of a step's micro-batches (0 when nothing scored). */
function ratiosOf(io: IoSpec, outs: Record<string, WireTensor>[]): Record<string, number> {
  const count = outs.reduce((n, out) => n + scalar(out[io.metrics.count!]), 0);
  return Object.fromEntries(Object.entries(io.metrics.ratios).map(([name, num]) => [name, count > 0 ? outs.reduce((n, out) => n + scalar(out[num]), 0) / count : 0]));
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

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
    if (a !== b) throw new UserError(`${dir}: ${key} is ${b} now but ${a} in the checkpoint; resume with the same settings`);
  }
}
