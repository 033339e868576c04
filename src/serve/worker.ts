/**
 * Main-thread handle of one model's inference worker (worker-thread.ts): a worker thread that owns the model's
 * ONNX Runtime sessions, so a run — which blocks the thread it runs on — never blocks the server's event loop.
 *
 *   const w = await ModelWorker.start({ dir: 'models/compactlm-mini', session: { int8: false } });
 *   w.lanes;                                      // what it can run: { 'fill-mask': { maxBatch, maxBatchTokens }, … }
 *   const results = await w.run([{ task: 'embed', row }, …]);    // one ONNX Runtime run for the whole batch
 *   await w.close();
 *
 * The batcher (batcher.ts) decides what goes into a run; the worker runs one request at a time.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Encoded } from '../infer/batches.js';
import type { Device } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import type { LaneLimits } from './batcher.js';
import type { ChatTurn } from '../chat/bot.js';
import type { SummaryMethod } from '../summarize/summarizer.js';

export const TASKS = ['fill-mask', 'embed', 'classify', 'summarize', 'chat'] as const;
export type Task = (typeof TASKS)[number];

/** One input of a run. Rows of one run share their task (and top-k). */
export type Job =
  | { task: 'fill-mask'; topK: number; row: Encoded }
  | { task: 'embed'; row: Encoded }
  | { task: 'classify'; row: Encoded }
  | { task: 'summarize'; text: string; options: { sentences?: number; ratio?: number; method?: SummaryMethod } }
  | { task: 'chat'; message: string; history: readonly ChatTurn[] };

export interface WorkerInit {
  dir: string;
  session: { device?: Device; threads?: number; int8: boolean };
  /** Chat: the FAQ file (a masked LM answers from it); no chat without one. */
  faq?: string;
}

export interface WorkerLanes {
  /** Tasks the worker loaded, with the limits of one run. */
  tasks: Partial<Record<Task, LaneLimits>>;
  /** Tasks this model could do but that are not available, and why. */
  unavailable: Partial<Record<Task, string>>;
}

export type WorkerRequest = { id: number; op: 'run'; jobs: Job[] } | { id: number; op: 'close' };
export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; user: boolean } };

const INIT_ID = 0;

/** The built worker script (dist/serve/worker-thread.js; tests run the built CLI). */
function workerUrl(): URL {
  const url = new URL('./worker-thread.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) throw new Error(`the serve worker is not built (${fileURLToPath(url)} missing): run \`npm run build\``);
  return url;
}

export class ModelWorker {
  private nextId = INIT_ID + 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  private exitListeners: ((e: Error) => void)[] = [];
  lanes: WorkerLanes = { tasks: {}, unavailable: {} };

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`the inference worker exited (code ${code})`)));
  }

  /** Starts the thread and loads the model in it; rejects with the load error (e.g. a UserError naming the folder). */
  static async start(init: WorkerInit): Promise<ModelWorker> {
    const w = new ModelWorker(new Worker(workerUrl(), { workerData: init }));
    try {
      w.lanes = (await w.wait(INIT_ID)) as WorkerLanes;
    } catch (e) {
      await w.worker.terminate();
      throw e;
    }
    return w;
  }

  /** Called once if the thread dies (an error, or exit while not closing). */
  onExit(listener: (e: Error) => void): void {
    this.exitListeners.push(listener);
  }

  get alive(): boolean {
    return this.dead === null;
  }

  run(jobs: Job[]): Promise<unknown[]> {
    return this.request({ op: 'run', jobs }) as Promise<unknown[]>;
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.exitListeners = [];
    try {
      await this.request({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }

  private request(req: { op: 'run'; jobs: Job[] } | { op: 'close' }): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const p = this.wait(id);
    this.worker.postMessage({ ...req, id } satisfies WorkerRequest);
    return p;
  }

  private wait(id: number): Promise<unknown> {
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(reply.error.user ? new UserError(reply.error.message) : new Error(reply.error.message));
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const l of this.exitListeners) l(e);
  }
}
