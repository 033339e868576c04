/**
 * Main-thread handle of the step worker (step-worker.ts): starts it, creates its sessions, and sends it requests.
 * Each method returns a promise, so the caller can prepare the next batch while a step runs:
 *
 *   const runner = await StepRunner.start({ train: trainBytes, eval: evalBytes }, { device: 'cpu', threads: 2 });
 *   await runner.set(initialState);                                  // params and moments, by input name
 *   const pending = runner.run('train', batchFeeds, { fetch: ['loss'], keep: { 'new.w': 'w' } });
 *   const next = prepareNextBatch();                                 // overlaps with the step
 *   const { loss } = await pending;
 *   const weights = await runner.get(['w']);                         // copies, only when saving
 *   await runner.close();
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import type { SessionConfig } from './session.js';
import type { AccumulateSpec, RunTiming, WorkerReply, WorkerRequest } from './step-worker.js';
import { buffersOf, type WireFeeds, type WireTensor } from './wire.js';

export interface RunOptions {
  /** Outputs copied back (keep them small: scalars and metrics). */
  fetch?: string[];
  /** Output name → store name: the output becomes a stored tensor (e.g. the next step's parameter). */
  keep?: Record<string, string>;
  /** Kept outputs written into the buffer of the stored tensor they replace (the step's StateTensor.inPlace). */
  inPlace?: string[];
  accumulate?: AccumulateSpec;
}

export interface SessionIO {
  inputs: readonly string[];
  outputs: readonly string[];
}

/** The compiled worker script. Under ts-jest (sources in src/) the built copy in dist/ is used. */
export function workerUrl(): URL {
  const here = new URL('./step-worker.js', import.meta.url);
  const path = fileURLToPath(here);
  if (existsSync(path)) return here;
  const built = path.replace(/([\\/])src([\\/]runtime[\\/]step-worker\.js)$/, '$1dist$2');
  if (built !== path && existsSync(built)) return pathToFileURL(built);
  throw new Error(`the step worker is not built (${path} missing): run \`npx tsc -p tsconfig.json\``);
}

export class StepRunner {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  /** The worker's timing of the runs settled since the last takeTiming(), summed. */
  private timing: RunTiming = { feed_ms: 0, session_ms: 0, outputs_ms: 0 };

  private constructor(
    private readonly worker: Worker,
    /** Input and output names of each session. */
    readonly io: Record<string, SessionIO>,
  ) {}

  /** `sessions`: name → ONNX model bytes, or the path of an ONNX file (read by ORT in the worker). */
  static async start(sessions: Record<string, Uint8Array | string>, config: SessionConfig = {}): Promise<StepRunner> {
    // Worker threads inherit the process environment (MALLOC_* from bin/compactlm included).
    const worker = new Worker(workerUrl());
    const runner = new StepRunner(worker, {});
    worker.on('message', (reply: WorkerReply) => runner.settle(reply));
    worker.on('error', (e) => runner.fail(e));
    worker.on('exit', (code) => runner.fail(new Error(`the step worker exited (code ${code})`)));
    try {
      // Model bytes are copied: the caller may keep using them (e.g. to write artifacts).
      const io = (await runner.request({ op: 'init', config, sessions })) as Record<string, SessionIO>;
      Object.assign(runner.io, io);
    } catch (e) {
      await worker.terminate();
      throw e;
    }
    return runner;
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok && reply.timing) for (const k of Object.keys(this.timing) as (keyof RunTiming)[]) this.timing[k] += reply.timing[k];
    if (reply.ok) p.resolve(reply.result);
    else {
      const err = reply.error.user ? new UserError(reply.error.message) : new Error(reply.error.message);
      if (reply.error.stack && !reply.error.user) err.stack = reply.error.stack;
      p.reject(err);
    }
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // An idle worker does not keep the process alive (a CLI may end without close()); a request in flight does.
      this.worker.ref();
      this.worker.postMessage({ id, req }, transfer);
    });
  }

  /**
   * Stores tensors in the worker by name. Their buffers are transferred (detached here), so pass copies of
   * anything the caller still needs.
   */
  set(tensors: WireFeeds): Promise<void> {
    return this.request({ op: 'set', tensors }, buffersOf(Object.values(tensors))) as Promise<void>;
  }

  /** Adds tensors into stored ones by name (float32; stores them when absent); buffers transferred as in set. */
  add(tensors: WireFeeds): Promise<void> {
    return this.request({ op: 'add', tensors }, buffersOf(Object.values(tensors))) as Promise<void>;
  }

  /** Copies of stored tensors. */
  get(names: string[]): Promise<Record<string, WireTensor>> {
    return this.request({ op: 'get', names }) as Promise<Record<string, WireTensor>>;
  }

  delete(names: string[]): Promise<void> {
    return this.request({ op: 'delete', names }) as Promise<void>;
  }

  /** Runs a session; feeds are transferred (detached here). Returns the fetched outputs. */
  run(session: string, feeds: WireFeeds, opts: RunOptions = {}): Promise<Record<string, WireTensor>> {
    const req: WorkerRequest = { op: 'run', session, feeds, fetch: opts.fetch ?? [], keep: opts.keep, inPlace: opts.inPlace, accumulate: opts.accumulate };
    return this.request(req, buffersOf(Object.values(feeds))) as Promise<Record<string, WireTensor>>;
  }

  /** Where the worker spent the runs settled since the last call (ms, summed), and a fresh count from now. */
  takeTiming(): RunTiming {
    const t = this.timing;
    this.timing = { feed_ms: 0, session_ms: 0, outputs_ms: 0 };
    return t;
  }

  /** Releases the sessions and stops the worker. */
  async close(): Promise<void> {
    if (!this.dead) {
      try {
        await this.request({ op: 'close' });
      } catch {
        // already failing: terminate anyway
      }
    }
    this.dead ??= new Error('the step runner is closed');
    await this.worker.terminate();
  }
}

/** The scalar value of a fetched output. */
export function scalar(t: WireTensor | undefined, name = 'output'): number {
  if (!t || t.data.length < 1) throw new Error(`missing scalar ${name}`);
  const v = t.data[0];
  return typeof v === 'bigint' ? Number(v) : v;
}
