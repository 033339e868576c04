/**
 * The dynamic batcher with a recording runner (no model): concurrent submissions merge into one run, runs respect
 * the padded-token budget (rows × longest) and the lane's row limit, rows are sorted by length, lanes never mix,
 * `maxBatchTokens: 0` runs each request on its own, the first row waits at most maxWaitMs, an aborted request
 * leaves the queue, a full queue is refused (503 overloaded), a failed run rejects only its requests, and idle()
 * resolves once everything ran.
 */
import { Batcher, type BatcherOptions, type BatchStats } from '../../../src/serve/batcher.js';
import { ApiError } from '../../../src/serve/errors.js';

interface Row {
  id: string;
  length: number;
}

function recorder(o: Partial<BatcherOptions> = {}, fail?: (ids: string[]) => boolean) {
  const runs: { lane: string; ids: string[] }[] = [];
  const stats: BatchStats[] = [];
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  const b = new Batcher<Row, string>(async (lane, rows) => {
    runs.push({ lane, ids: rows.map((r) => r.id) });
    if (gate) await gate;
    if (fail?.(rows.map((r) => r.id))) throw new Error('run failed');
    return rows.map((r) => `${lane}:${r.id}`);
  }, {
    maxBatchTokens: 1000, maxWaitMs: 5, maxQueue: 100,
    limits: () => ({ maxBatch: 64, maxBatchTokens: 100000 }),
    onBatch: (s) => stats.push(s),
    ...o,
  });
  return {
    b, runs, stats,
    /** The runner blocks until release(): requests pile up as they would while the worker is busy. */
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release() {
      gate = null;
      release?.();
    },
  };
}

const rows = (...spec: [string, number][]) => spec.map(([id, length]) => ({ length, payload: { id, length } }));

describe('Batcher', () => {
  test('concurrent requests of one lane merge into one run; each gets its own results in order', async () => {
    const r = recorder();
    const [a, b, c] = await Promise.all([
      r.b.submit('classify', rows(['a1', 10], ['a2', 12])),
      r.b.submit('classify', rows(['b1', 11])),
      r.b.submit('classify', rows(['c1', 9])),
    ]);
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0].ids.sort()).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(a).toEqual(['classify:a1', 'classify:a2']);
    expect(b).toEqual(['classify:b1']);
    expect(c).toEqual(['classify:c1']);
    expect(r.stats).toEqual([{ lane: 'classify', rows: 4, paddedTokens: 4 * 12, seconds: expect.any(Number) }]);
  });

  test('rows are sorted by length and cut so that rows × longest stays within max-batch-tokens', async () => {
    const r = recorder({ maxBatchTokens: 100 });
    await r.b.submit('embed', rows(['l40', 40], ['s10', 10], ['m25', 25], ['s12', 12], ['m30', 30], ['l45', 45]));
    // sorted: 10 12 25 30 40 45 → [10 12 25 30] would be 4×30 = 120 > 100: [10 12 25] (75), [30 40] (80), [45]
    expect(r.runs.map((x) => x.ids)).toEqual([['s10', 's12', 'm25'], ['m30', 'l40'], ['l45']]);
    for (const s of r.stats) expect(s.paddedTokens).toBeLessThanOrEqual(100);
  });

  test("the lane's own limits hold too (one row per run for int8 exports; fill-mask's logits budget)", async () => {
    const r = recorder({ limits: (lane) => (lane === 'int8' ? { maxBatch: 1, maxBatchTokens: 1e9 } : { maxBatch: 64, maxBatchTokens: 30 }) });
    await Promise.all([r.b.submit('int8', rows(['i1', 5], ['i2', 5])), r.b.submit('fm', rows(['f1', 10], ['f2', 10], ['f3', 10], ['f4', 10]))]);
    expect(r.runs).toEqual([
      { lane: 'int8', ids: ['i1'] }, { lane: 'int8', ids: ['i2'] },
      { lane: 'fm', ids: ['f1', 'f2', 'f3'] }, { lane: 'fm', ids: ['f4'] },
    ]);
  });

  test('lanes never share a run (a fill-mask with another top_k, another task)', async () => {
    const r = recorder();
    await Promise.all([r.b.submit('fill-mask/5', rows(['a', 5])), r.b.submit('fill-mask/10', rows(['b', 5])), r.b.submit('fill-mask/5', rows(['c', 5]))]);
    expect(r.runs).toEqual([{ lane: 'fill-mask/5', ids: ['a', 'c'] }, { lane: 'fill-mask/10', ids: ['b'] }]);
  });

  test('rows that arrive while a run is going wait for the next round, and then run together', async () => {
    const r = recorder();
    r.hold();
    const first = r.b.submit('x', rows(['a', 5]));
    await new Promise((res) => setTimeout(res, 20)); // the first run has started and is held
    const later = [r.b.submit('x', rows(['b', 5])), r.b.submit('x', rows(['c', 5])), r.b.submit('x', rows(['d', 5]))];
    expect(r.b.depth).toBe(3);
    r.release();
    await Promise.all([first, ...later]);
    expect(r.runs.map((x) => x.ids)).toEqual([['a'], ['b', 'c', 'd']]);
  });

  test('max-batch-tokens 0: no merging — every request runs on its own, in arrival order, without waiting', async () => {
    const r = recorder({ maxBatchTokens: 0, maxWaitMs: 1000 });
    const t = performance.now();
    await Promise.all([r.b.submit('x', rows(['a1', 5], ['a2', 6])), r.b.submit('x', rows(['b1', 5])), r.b.submit('x', rows(['c1', 5]))]);
    expect(performance.now() - t).toBeLessThan(500);
    expect(r.runs.map((x) => x.ids)).toEqual([['a1', 'a2'], ['b1'], ['c1']]);
  });

  test('an idle runner: the first row waits for company at most max-wait-ms — not again for a lone client; a full batch goes at once', async () => {
    const slow = recorder({ maxWaitMs: 150 });
    let t = performance.now();
    await slow.b.submit('x', rows(['a', 5]));
    const waited = performance.now() - t;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);
    // that round merged nothing: the next lone request runs at once
    t = performance.now();
    await slow.b.submit('x', rows(['b', 5]));
    expect(performance.now() - t).toBeLessThan(100);
    // requests that queue up during a run go right after it, merged: so the next idle start waits for company again
    slow.hold();
    const c = slow.b.submit('x', rows(['c', 5]));
    await new Promise((r) => setTimeout(r, 20));
    const de = [slow.b.submit('x', rows(['d', 5])), slow.b.submit('x', rows(['e', 5]))];
    t = performance.now();
    slow.release();
    await Promise.all([c, ...de]);
    expect(performance.now() - t).toBeLessThan(100);
    expect(slow.runs.map((r) => r.ids)).toEqual([['a'], ['b'], ['c'], ['d', 'e']]);
    t = performance.now();
    await slow.b.submit('x', rows(['f', 5]));
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    const full = recorder({ maxWaitMs: 5000, limits: () => ({ maxBatch: 2, maxBatchTokens: 1e9 }) });
    t = performance.now();
    await full.b.submit('x', rows(['a', 5], ['b', 5]));
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test('an aborted request (its timeout) leaves the queue and is rejected with the reason; others run', async () => {
    const r = recorder({ maxWaitMs: 50 });
    const ac = new AbortController();
    const gone = r.b.submit('x', rows(['a', 5]), ac.signal);
    const kept = r.b.submit('x', rows(['b', 5]));
    ac.abort(new Error('timed out'));
    await expect(gone).rejects.toThrow('timed out');
    expect(await kept).toEqual(['x:b']);
    expect(r.runs.map((x) => x.ids)).toEqual([['b']]);
  });

  test('a full queue refuses the request with 503 overloaded and Retry-After', async () => {
    const r = recorder({ maxQueue: 3 });
    r.hold();
    const running = r.b.submit('x', rows(['a', 5]));
    await new Promise((res) => setTimeout(res, 20));
    const waiting = r.b.submit('x', rows(['b', 5], ['c', 5]));
    const refused = r.b.submit('x', rows(['d', 5], ['e', 5]));
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await refused.catch((e: ApiError) => {
      expect([e.status, e.code, e.headers['retry-after']]).toEqual([503, 'overloaded', '1']);
    });
    r.release();
    await Promise.all([running, waiting]);
  });

  test('a failed run rejects the requests in it and no others', async () => {
    const r = recorder({ limits: () => ({ maxBatch: 1, maxBatchTokens: 1e9 }) }, (ids) => ids.includes('bad'));
    const results = await Promise.allSettled([r.b.submit('x', rows(['ok1', 5])), r.b.submit('x', rows(['bad', 5])), r.b.submit('x', rows(['ok2', 5]))]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  test('idle() resolves once nothing waits or runs', async () => {
    const r = recorder();
    await r.b.idle();
    r.hold();
    const p = r.b.submit('x', rows(['a', 5]));
    let idle = false;
    const done = r.b.idle().then(() => (idle = true));
    await new Promise((res) => setTimeout(res, 30));
    expect(idle).toBe(false);
    r.release();
    await p;
    await done;
    expect(idle).toBe(true);
  });
});
