/**
 * The inference worker thread of one served model (worker.ts is its main-thread side). It loads the model once
 * per task it serves — a masked LM: fill-mask (logits), embed (last_hidden_state), the summarizer and, with
 * --faq, the FAQ chatbot (each library loads its own encoder); a classifier: classify — then answers `run`
 * requests: a batch of rows
 * already encoded and checked by the main thread goes through the task's own `runBatch`, one ONNX Runtime run
 * padded to the batch's longest row.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchTask } from '../infer/batches.js';
import { Classifier } from '../infer/classifier.js';
import { Embedder } from '../infer/embed.js';
import { FillMask } from '../infer/fill-mask.js';
import { isClassifier, loadConfig } from '../model/config.js';
import { CONFIG_FILE } from '../model/checkpoint-folder.js';
import { UserError } from '../util/errors.js';
import type { LaneLimits } from './batcher.js';
import { loadChatBot, type ChatBot } from '../chat/bot.js';
import { loadSummarizer, type Summarizer } from '../summarize/summarizer.js';
import type { Job, WorkerInit, WorkerLanes, WorkerReply, WorkerRequest } from './worker.js';

const init = workerData as WorkerInit;
const port = parentPort!;

interface Loaded {
  fillMask?: FillMask;
  embedder?: Embedder;
  classifier?: Classifier;
  summarizer?: Summarizer;
  chat?: ChatBot;
}
const m: Loaded = {};

const UNBATCHED: LaneLimits = { maxBatch: 1, maxBatchTokens: Infinity };

function limits(task: BatchTask<unknown>): LaneLimits {
  return { maxBatch: task.maxBatch, maxBatchTokens: task.maxBatchTokens };
}

async function load(): Promise<WorkerLanes> {
  const lanes: WorkerLanes = { tasks: {}, unavailable: {} };
  const config = await loadConfig(join(init.dir, CONFIG_FILE));
  if (isClassifier(config)) {
    m.classifier = await Classifier.load(init.dir, init.session);
    lanes.tasks.classify = limits(m.classifier.task());
    return lanes;
  }
  m.fillMask = await FillMask.load(init.dir, init.session);
  lanes.tasks['fill-mask'] = limits(m.fillMask.task(1));
  m.embedder = await Embedder.load(init.dir, init.session);
  lanes.tasks.embed = limits(m.embedder.task());
  // One document or one message per run: these libraries batch their sentences (questions) themselves.
  m.summarizer = await loadSummarizer(init.dir, init.session);
  lanes.tasks.summarize = UNBATCHED;
  if (init.faq !== undefined) {
    m.chat = await loadChatBot({ model: init.dir, faq: init.faq, ...init.session });
    lanes.tasks.chat = UNBATCHED;
  } else lanes.unavailable.chat = 'chat answers from an FAQ: start the server with --faq <csv> (columns question, answer)';
  return lanes;
}

function need<T>(x: T | undefined, task: string): T {
  if (x === undefined) throw new Error(`this worker has no ${task} model`);
  return x;
}

async function run(jobs: Job[]): Promise<unknown[]> {
  const first = jobs[0];
  if (!first) return [];
  if (jobs.some((j) => j.task !== first.task)) throw new Error('a run mixes tasks');
  switch (first.task) {
    case 'fill-mask':
      return need(m.fillMask, 'fill-mask').task(first.topK).runBatch(jobs.map((j) => (j as typeof first).row));
    case 'embed':
      return need(m.embedder, 'embed').task().runBatch(jobs.map((j) => (j as typeof first).row));
    case 'classify':
      return need(m.classifier, 'classify').task().runBatch(jobs.map((j) => (j as typeof first).row));
    case 'summarize': {
      const s = need(m.summarizer, 'summarize');
      const out: unknown[] = [];
      for (const j of jobs as (typeof first)[]) out.push(await s.summarize(j.text, { ...j.options, method: j.options.method ?? s.defaultMethod }));
      return out;
    }
    case 'chat': {
      const c = need(m.chat, 'chat');
      const out: unknown[] = [];
      for (const j of jobs as (typeof first)[]) out.push(await c.reply(j.message, j.history));
      return out;
    }
  }
}

async function close(): Promise<void> {
  await m.fillMask?.close();
  await m.embedder?.close();
  await m.classifier?.close();
  await m.summarizer?.close();
  await m.chat?.close();
}

function reply(id: number, p: Promise<unknown>): void {
  p.then((result) => port.postMessage({ id, ok: true, result } satisfies WorkerReply),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ id, ok: false, error: { message: err.message, user: err instanceof UserError } } satisfies WorkerReply);
    });
}

// Requests run one at a time, in order, after the model has loaded: each waits for the one before it.
const loading = load();
reply(0, loading);
let chain: Promise<unknown> = loading.catch(() => undefined);
port.on('message', (req: WorkerRequest) => {
  const next = chain.then((): Promise<unknown> => (req.op === 'run' ? run(req.jobs) : close()));
  chain = next.catch(() => undefined);
  reply(req.id, next);
});
