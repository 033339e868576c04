import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evalRow, MetricsLog, readMetrics, TIMING_FIELDS } from '../../../src/train/metrics.js';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'compactlm-metrics-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** The rows a deterministic run logs: a train row every step, an eval row every 5 steps. */
function logSteps(log: MetricsLog, from: number, to: number, speed: number): void {
  for (let step = from; step <= to; step++) {
    log.append({ step, loss: 10 / step, lr: 1e-3 * step, grad_norm: 1 / step, tokens_per_s: speed * step });
    if (step % 5 === 0) log.append(evalRow(step, 2 / step, { mlm_acc: 0.1 * step }));
  }
}

const withoutTiming = (rows: Record<string, unknown>[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING_FIELDS.includes(k))));

describe('MetricsLog', () => {
  test('rows are on disk as soon as they are appended (no buffering), one JSON object per line', async () => {
    const path = join(dir, 'metrics.jsonl');
    const log = await MetricsLog.open(path);
    log.append({ step: 1, loss: 2.5, lr: 1e-4, grad_norm: 0.5, tokens_per_s: 1000 });
    log.append(evalRow(1, Math.log(50), { mlm_acc: 0.25 }));
    log.append({ step: 2, loss: NaN, lr: 0, grad_norm: Infinity, tokens_per_s: 1 });
    // read before close: what a kill -9 at this point would leave
    const rows = await readMetrics(path);
    expect(rows).toEqual([
      { step: 1, loss: 2.5, lr: 1e-4, grad_norm: 0.5, tokens_per_s: 1000 },
      { step: 1, val_loss: Math.log(50), val_ppl: expect.closeTo(50, 10), val_mlm_acc: 0.25 },
      { step: 2, loss: null, lr: 0, grad_norm: null, tokens_per_s: 1 },
    ]);
    log.close();
    expect(() => log.append({ step: 3 })).toThrow(/closed/);
  });

  test('resume truncates to the resumed step, and the finished file equals an uninterrupted run but for timing', async () => {
    const whole = join(dir, 'whole.jsonl');
    const a = await MetricsLog.open(whole);
    logSteps(a, 1, 20, 100);
    a.close();

    const path = join(dir, 'metrics.jsonl');
    const b = await MetricsLog.open(path);
    logSteps(b, 1, 13, 50); // killed at step 13 ...
    b.close();
    await fsp.appendFile(path, '{"step":14,"loss":0.71'); // ... in the middle of writing a line
    const c = await MetricsLog.open(path, { resumeStep: 10 }); // last checkpoint: step 10
    expect((await readMetrics(path)).map((r) => r.step).at(-1)).toBe(10);
    expect((await readMetrics(path)).filter((r) => r.step === 10)).toHaveLength(2); // train and eval rows of step 10 kept
    logSteps(c, 11, 20, 70);
    c.close();

    const resumed = await readMetrics(path);
    const reference = await readMetrics(whole);
    expect(resumed).not.toEqual(reference); // timing differs ...
    expect(withoutTiming(resumed)).toEqual(withoutTiming(reference)); // ... and nothing else
  });

  test('a new run starts an empty file; resuming with no file starts one', async () => {
    const path = join(dir, 'metrics.jsonl');
    await fsp.writeFile(path, '{"step":1,"loss":3}\n');
    (await MetricsLog.open(path)).close();
    expect(await fsp.readFile(path, 'utf8')).toBe('');
    const other = join(dir, 'other.jsonl');
    const log = await MetricsLog.open(other, { resumeStep: 100 });
    log.append({ step: 101, loss: 1 });
    log.close();
    expect(await readMetrics(other)).toEqual([{ step: 101, loss: 1 }]);
  });

  test('a corrupted line that is not the last is a file:line error', async () => {
    const path = join(dir, 'metrics.jsonl');
    await fsp.writeFile(path, '{"step":1,"loss":3}\nnot json\n{"step":2,"loss":2}\n');
    await expect(MetricsLog.open(path, { resumeStep: 5 })).rejects.toThrow(`${path}:2: not a JSON line`);
    await fsp.writeFile(path, '{"loss":3}\n');
    await expect(readMetrics(path)).rejects.toThrow(`${path}:1: a metrics row must be a JSON object with a numeric "step"`);
  });
});
