/**
 * Dynamic batching: rows (one per input text) of concurrent requests for the same model are merged into one run.
 *
 *   const b = new Batcher(runRows, { maxBatchTokens: 16384, maxWaitMs: 5, maxQueue: 1024, limits: (lane) => … });
 *   const results = await b.submit('classify', [{ length: 12, payload: row }], AbortSignal.timeout(30_000));
 *
 * Rows only merge within a lane (same task and options: a fill-mask with top_k 5 and one with top_k 10 run apart).
 * A round takes every waiting row of the oldest row's lane at once, sorts them by length (less padding) and cuts
 * them into runs of at most `maxBatchTokens` padded tokens (rows × longest row) and the lane's own limits
 * (fill-mask's logits budget, one row for int8 exports); those runs go one after another, and rows that arrive
 * meanwhile wait for the next round — so no row is passed over for ever by shorter newcomers. When does a round
 * start? Right after the previous one if rows queued up during it (they have waited already: under load, batches
 * form while the runner works). When the runner is idle, the first row waits up to `maxWaitMs` for company — but
 * only while requests have been arriving together (the last round merged several); a lone client is not made to
 * wait for companions that never come. A full batch never waits.
 *
 * `maxBatchTokens: 0` turns batching off: each request's rows run on their own, requests in arrival order.
 * A request whose signal aborts (its timeout) leaves the queue at once; if it is already running, its results are
 * dropped. More than `maxQueue` waiting rows: the request is refused (503 overloaded) rather than queued.
 */
import { apiError } from './errors.js';

export interface BatchRow<P> {
  /** Tokens of the row (its padded cost is rows × the longest row of its batch). */
  length: number;
  payload: P;
}

export interface LaneLimits {
  /** Rows per run. */
  maxBatch: number;
  /** Padded tokens per run (the task's own budget). */
  maxBatchTokens: number;
}

export interface BatchStats {
  lane: string;
  rows: number;
  paddedTokens: number;
  seconds: number;
}

export interface BatcherOptions {
  /** Padded tokens per run; 0 = no batching across requests. */
  maxBatchTokens: number;
  maxWaitMs: number;
  /** Rows that may wait; a request that would pass it is refused. */
  maxQueue: number;
  limits(lane: string): LaneLimits;
  /** Called after every run (metrics). */
  onBatch?(stats: BatchStats): void;
}

export type RunBatch<P, R> = (lane: string, payloads: P[]) => Promise<R[]>;

interface Pending<R> {
  lane: string;
  results: R[];
  left: number;
  done: boolean;
  resolve(results: R[]): void;
  reject(e: unknown): void;
}

interface QueuedRow<P, R> {
  req: Pending<R>;
  index: number;
  length: number;
  payload: P;
  at: number;
}

export class Batcher<P, R> {
  private queue: QueuedRow<P, R>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Whether the last round merged more than one request (then an idle runner waits for company). */
  private merging = true;

  constructor(private readonly runBatch: RunBatch<P, R>, private readonly o: BatcherOptions) {
    if (!(o.maxBatchTokens >= 0) || !(o.maxWaitMs >= 0) || !(o.maxQueue >= 1)) throw new Error('Batcher: bad options');
  }

  /** Rows waiting to run. */
  get depth(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  /** The results of `rows`, in order, once they have run. */
  submit(lane: string, rows: readonly BatchRow<P>[], signal?: AbortSignal): Promise<R[]> {
    if (rows.length === 0) return Promise.resolve([]);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length + rows.length > this.o.maxQueue) {
      return Promise.reject(apiError(503, 'overloaded', `the server is busy (${this.queue.length} inputs waiting for this model): retry shortly`, { 'retry-after': '1' }));
    }
    return new Promise<R[]>((resolve, reject) => {
      const req: Pending<R> = { lane, results: new Array<R>(rows.length), left: rows.length, done: false, resolve, reject };
      const now = performance.now();
      rows.forEach((r, index) => this.queue.push({ req, index, length: r.length, payload: r.payload, at: now }));
      signal?.addEventListener('abort', () => {
        if (req.done) return;
        this.finish(req, signal.reason);
        this.queue = this.queue.filter((q) => q.req !== req);
      }, { once: true });
      this.schedule();
    });
  }

  /** Resolves when nothing waits or runs (graceful shutdown). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(afterRound = false): void {
    if (this.running || this.timer || this.queue.length === 0) return;
    const now = afterRound || this.o.maxBatchTokens === 0 || !this.merging || this.fullBatchWaiting();
    const wait = now ? 0 : this.queue[0].at + this.o.maxWaitMs - performance.now();
    if (wait <= 0) {
      void this.round();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.round();
    }, wait);
  }

  /** True when the oldest row's lane already has a full run waiting (no point waiting for more). */
  private fullBatchWaiting(): boolean {
    const lane = this.queue[0].req.lane;
    const { maxBatch, budget } = this.budget(lane);
    let rows = 0;
    let longest = 0;
    for (const q of this.queue) {
      if (q.req.lane !== lane) continue;
      rows++;
      longest = Math.max(longest, q.length);
      if (rows >= maxBatch || rows * longest >= budget) return true;
    }
    return false;
  }

  private budget(lane: string): { maxBatch: number; budget: number } {
    const l = this.o.limits(lane);
    const budget = this.o.maxBatchTokens === 0 ? l.maxBatchTokens : Math.min(this.o.maxBatchTokens, l.maxBatchTokens);
    return { maxBatch: Math.max(1, l.maxBatch), budget };
  }

  /** Takes this round's rows off the queue and runs them, one run after another. */
  private async round(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    try {
      const first = this.queue[0].req;
      const lane = first.lane;
      // Batching off: the oldest request alone. On: every waiting row of its lane, shortest first.
      const take = this.o.maxBatchTokens === 0 ? (q: QueuedRow<P, R>) => q.req === first : (q: QueuedRow<P, R>) => q.req.lane === lane;
      const rows = this.queue.filter(take);
      this.queue = this.queue.filter((q) => !take(q));
      this.merging = new Set(rows.map((q) => q.req)).size > 1;
      if (this.o.maxBatchTokens !== 0) rows.sort((a, b) => a.length - b.length);
      for (const run of cut(rows, this.budget(lane))) {
        const live = run.filter((q) => !q.req.done);
        if (live.length > 0) await this.runOne(lane, live);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule(true);
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async runOne(lane: string, rows: QueuedRow<P, R>[]): Promise<void> {
    const t = performance.now();
    let results: R[];
    try {
      results = await this.runBatch(lane, rows.map((q) => q.payload));
      if (results.length !== rows.length) throw new Error(`batch of ${rows.length} rows gave ${results.length} results`);
    } catch (e) {
      for (const q of rows) this.finish(q.req, e);
      return;
    }
    this.o.onBatch?.({ lane, rows: rows.length, paddedTokens: rows.length * Math.max(...rows.map((q) => q.length)), seconds: (performance.now() - t) / 1000 });
    rows.forEach((q, i) => {
      if (q.req.done) return;
      q.req.results[q.index] = results[i];
      if (--q.req.left === 0) this.finish(q.req);
    });
  }

  private finish(req: Pending<R>, error?: unknown): void {
    if (req.done) return;
    req.done = true;
    if (error === undefined) req.resolve(req.results);
    else req.reject(error);
  }
}

/** Rows (sorted by length when batching) cut greedily into runs within the row and padded-token limits. */
function cut<T extends { length: number }>(rows: readonly T[], o: { maxBatch: number; budget: number }): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let longest = 0;
  for (const r of rows) {
    const padded = (run.length + 1) * Math.max(longest, r.length);
    if (run.length > 0 && (run.length >= o.maxBatch || padded > o.budget)) {
      runs.push(run);
      run = [];
      longest = 0;
    }
    run.push(r);
    longest = Math.max(longest, r.length);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
