/**
 * The models a server serves, by name: `--model <dir>` (named after the folder) or `--model name=<dir>`, repeated.
 *
 *   const reg = new ModelRegistry(await readModelSpecs(specs), options, metrics);
 *   await reg.load();                               // one worker per model, then a warm-up run per task
 *   const m = reg.forTask('classify', body.model);  // 404 model_not_found / not_available, 422 unsupported_task
 *   const row = m.encode(text, 'classify', 'inputs[0]');          // 413 input_too_long, 422 no_mask
 *   const [result] = await m.run([{ task: 'classify', row }], signal);          // merged with other requests' rows
 *
 * What a model serves follows from its config.json: a masked LM (BertForMaskedLM) does fill-mask, embed,
 * summarize (centroid or lead) and, with --faq, chat (answers from the FAQ); a fine-tuned classifier
 * (BertForSequenceClassification) does classify. A request without "model" gets the first model given
 * that does the task. Texts are tokenized here, on the main thread (cheap), so that limits are checked before a
 * request waits for the worker, and the batcher knows each row's length.
 */
import { join } from 'node:path';
import type { Encoded } from '../infer/batches.js';
import { folderTokenizer } from '../infer/encoder-model.js';
import { CONFIG_FILE } from '../model/checkpoint-folder.js';
import { classifierLabels, isClassifier, loadConfig, MASKED_LM, SEQUENCE_CLASSIFICATION, type BertConfig } from '../model/config.js';
import type { Device } from '../runtime/session.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { log } from '../util/log.js';
import { Batcher } from './batcher.js';
import { apiError } from './errors.js';
import type { ServeMetrics } from './metrics.js';
import { ModelWorker, type Job, type Task, type WorkerLanes } from './worker.js';

export interface ModelSpec {
  name: string;
  dir: string;
}

export interface CheckedModelSpec extends ModelSpec {
  config: BertConfig;
}

export interface RegistryOptions {
  session: { device?: Device; threads?: number; int8: boolean };
  faq?: string;
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Most tokens per input text, [CLS]/[SEP] included (capped by the model's own length). */
  maxInputTokens: number;
}

/** Reads each folder's config.json (a missing or bad one is a one-line UserError naming the file). */
export async function readModelSpecs(specs: readonly ModelSpec[]): Promise<CheckedModelSpec[]> {
  return Promise.all(specs.map(async (s) => ({ ...s, config: await loadConfig(join(s.dir, CONFIG_FILE)) })));
}

/** The batcher lane of a job: rows merge only with rows of the same task and options. */
export function laneOf(job: Job): string {
  return job.task === 'fill-mask' ? `fill-mask/${job.topK}` : job.task;
}

export class ServedModel {
  readonly maxInputTokens: number;
  readonly batcher: Batcher<Job, unknown>;

  constructor(readonly spec: CheckedModelSpec, readonly tokenizer: Tokenizer, readonly worker: ModelWorker, o: RegistryOptions,
    metrics: ServeMetrics) {
    this.maxInputTokens = Math.min(o.maxInputTokens, MODEL_MAX_LENGTH, spec.config.max_position_embeddings);
    const lanes = worker.lanes.tasks;
    this.batcher = new Batcher<Job, unknown>((_lane, jobs) => worker.run(jobs), {
      maxBatchTokens: o.maxBatchTokens,
      maxWaitMs: o.maxWaitMs,
      maxQueue: o.maxQueue,
      limits: (lane) => lanes[lane.split('/')[0] as Task] ?? { maxBatch: 1, maxBatchTokens: Infinity },
      onBatch: (s) => metrics.batch(spec.name, s),
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get tasks(): Task[] {
    return Object.keys(this.worker.lanes.tasks) as Task[];
  }

  /** One input text as the task's row: [CLS] … [SEP], within the token limit; fill-mask needs a [MASK]. */
  encode(text: string, task: 'fill-mask' | 'embed' | 'classify' | 'chat', field: string): Encoded {
    const tok = this.tokenizer;
    const enc = tok.encode(text, null, this.maxInputTokens);
    if (enc.truncated) {
      throw apiError(413, 'input_too_long', `${field}: ${tok.ids(text).length + 2} tokens, more than this server's limit of ${this.maxInputTokens} ` +
        '([CLS] and [SEP] included): send a shorter text');
    }
    if (task === 'fill-mask' && !enc.input_ids.includes(tok.maskId)) {
      throw apiError(422, 'no_mask', `${field}: the text has no [MASK] token (write it in capitals, e.g. "Paris is the [MASK] of France.")`);
    }
    return { text, ids: enc.input_ids, tokens: enc.tokens, truncated: false };
  }

  /** Results of jobs of one task, through the batcher (merged with other requests' rows). */
  run(jobs: Job[], signal?: AbortSignal): Promise<unknown[]> {
    const lane = jobs.length > 0 ? laneOf(jobs[0]) : '';
    return this.batcher.submit(lane, jobs.map((j) => ({ length: 'row' in j ? j.row.ids.length : 1, payload: j })), signal);
  }

  /** The entry of GET /v1/models. */
  describe(): Record<string, unknown> {
    const c = this.spec.config;
    return {
      name: this.name,
      architecture: c.architectures[0] ?? MASKED_LM,
      tasks: this.tasks,
      ...(isClassifier(c) ? { labels: classifierLabels(c) } : {}),
      max_input_tokens: this.maxInputTokens,
      hidden_size: c.hidden_size,
      num_hidden_layers: c.num_hidden_layers,
      vocab_size: c.vocab_size,
    };
  }
}

export class ModelRegistry {
  private readonly models: ServedModel[] = [];
  private unavailable: Partial<Record<Task, string>> = {};
  private deadListener: ((name: string, e: Error) => void) | null = null;

  constructor(readonly specs: readonly CheckedModelSpec[], private readonly o: RegistryOptions, private readonly metrics: ServeMetrics) {}

  /** Models loaded and warmed up so far. */
  get loaded(): number {
    return this.models.length;
  }

  get all(): readonly ServedModel[] {
    return this.models;
  }

  /** Called when a model's worker dies (the server then reports not live). */
  onWorkerDeath(listener: (name: string, e: Error) => void): void {
    this.deadListener = listener;
  }

  /** Loads each model in its worker, then runs one input of each of its tasks (the warm-up). */
  async load(): Promise<void> {
    for (const spec of this.specs) {
      const t = performance.now();
      // The main thread's tokenizer loads while the worker loads the model.
      const [tok, started] = await Promise.allSettled([
        folderTokenizer(spec.dir, spec.config),
        ModelWorker.start({ dir: spec.dir, session: this.o.session, ...(this.o.faq !== undefined ? { faq: this.o.faq } : {}) }),
      ]);
      if (tok.status === 'rejected' || started.status === 'rejected') {
        if (started.status === 'fulfilled') await started.value.close();
        throw tok.status === 'rejected' ? tok.reason : (started as PromiseRejectedResult).reason;
      }
      const [tokenizer, worker] = [tok.value, started.value];
      worker.onExit((e) => this.deadListener?.(spec.name, e));
      const model = new ServedModel(spec, tokenizer, worker, this.o, this.metrics);
      this.noteUnavailable(worker.lanes);
      await warmUp(model);
      const seconds = (performance.now() - t) / 1000;
      this.metrics.loaded(spec.name, seconds);
      log().info({ model: spec.name, dir: spec.dir, tasks: model.tasks, seconds: +seconds.toFixed(2) }, `serve: ${spec.name} loaded`);
      this.models.push(model);
    }
  }

  private noteUnavailable(lanes: WorkerLanes): void {
    for (const [task, why] of Object.entries(lanes.unavailable) as [Task, string][]) this.unavailable[task] ??= why;
  }

  /** The model named `name` (or the first that does `task`) — an ApiError when there is none or it cannot. */
  forTask(task: Task, name?: string): ServedModel {
    if (name !== undefined) {
      const m = this.models.find((x) => x.name === name);
      if (!m) throw apiError(404, 'model_not_found', `model: no model "${name}" (loaded: ${this.models.map((x) => x.name).join(', ')})`);
      if (!m.tasks.includes(task)) {
        const kind = isClassifier(m.spec.config) ? SEQUENCE_CLASSIFICATION : MASKED_LM;
        const others = this.models.filter((x) => x.tasks.includes(task)).map((x) => x.name);
        throw apiError(422, 'unsupported_task', `model: "${name}" is a ${kind} and does not do ${task}` +
          (others.length ? ` (models that do: ${others.join(', ')})` : ''));
      }
      return m;
    }
    const m = this.models.find((x) => x.tasks.includes(task));
    if (!m) throw apiError(404, 'not_available', this.whyNot(task));
    return m;
  }

  private whyNot(task: Task): string {
    const why = this.unavailable[task];
    if (why) return `${task}: not available: ${why}`;
    const needs = task === 'classify' ? `a fine-tuned classifier (${SEQUENCE_CLASSIFICATION})` : `a masked LM (${MASKED_LM})`;
    return `${task}: not available: no loaded model does it (it needs ${needs}; start the server with --model <dir> for one)`;
  }

  /** Every task some loaded model does. */
  tasks(): Task[] {
    return [...new Set(this.models.flatMap((m) => m.tasks))];
  }

  depths(): Record<string, number> {
    return Object.fromEntries(this.models.map((m) => [m.name, m.batcher.depth]));
  }

  /** Waits until no model has inputs waiting or running. */
  async idle(): Promise<void> {
    await Promise.all(this.models.map((m) => m.batcher.idle()));
  }

  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.worker.close()));
  }
}

const WARM_UP_TEXT = 'The weather is [MASK] today.';

/** One input per task the model does, straight to its worker: the first runs are slow (allocation, caches). */
async function warmUp(m: ServedModel): Promise<void> {
  for (const task of m.tasks) {
    const job: Job = task === 'fill-mask' ? { task, topK: 1, row: m.encode(WARM_UP_TEXT, task, 'warm-up') }
      : task === 'embed' || task === 'classify' ? { task, row: m.encode(WARM_UP_TEXT, task, 'warm-up') }
        : task === 'summarize' ? { task, text: 'The weather is fine today. We walked to the park. It was warm and sunny.', options: { sentences: 1 } }
          : { task, message: 'hello', history: [] };
    await m.worker.run([job]);
  }
}
