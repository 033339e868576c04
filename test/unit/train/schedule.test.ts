import { lrMultiplier, makeSchedule, warmupSteps } from '../../../src/train/schedule.js';

// Values worked out by hand from HF transformers' optimization.py definitions (w = 10 warmup, N = 100 total).
describe('learning-rate schedules (HF get_*_schedule_with_warmup)', () => {
  test('linear: warmup s/w, then (N − s)/(N − w), clamped at 0', () => {
    const s = makeSchedule({ kind: 'linear', peakLr: 2e-3, warmup: 10, totalSteps: 100 });
    const expected: [number, number][] = [[0, 0], [1, 0.1], [5, 0.5], [9, 0.9], [10, 1], [11, 89 / 90], [55, 0.5], [91, 1 / 10], [100, 0], [130, 0]];
    for (const [step, m] of expected) expect(s.lr(step)).toBeCloseTo(2e-3 * m, 15);
  });

  test('cosine: half a cosine from the peak to 0 after warmup', () => {
    const s = makeSchedule({ kind: 'cosine', peakLr: 1, warmup: 10, totalSteps: 100 });
    expect(s.lr(4)).toBeCloseTo(0.4, 15);
    expect(s.lr(10)).toBeCloseTo(1, 15);
    expect(s.lr(32.5)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 15); // a quarter of the way: 0.5·(1 + cos(π/4))
    expect(s.lr(55)).toBeCloseTo(0.5, 15);
    expect(s.lr(77.5)).toBeCloseTo((1 - Math.SQRT1_2) / 2, 15);
    expect(s.lr(100)).toBeCloseTo(0, 15);
    // general closed form at every step
    for (let step = 10; step <= 100; step++) expect(s.lr(step)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * (step - 10)) / 90)), 14);
  });

  test('constant: warmup then the peak', () => {
    const s = makeSchedule({ kind: 'constant', peakLr: 3, warmup: 4, totalSteps: 50 });
    expect([0, 1, 2, 3, 4, 5, 50].map((k) => s.lr(k))).toEqual([0, 0.75, 1.5, 2.25, 3, 3, 3]);
  });

  test('no warmup starts at the peak; w = N is all warmup', () => {
    expect(makeSchedule({ kind: 'linear', peakLr: 1, warmup: 0, totalSteps: 20 }).lr(0)).toBe(1);
    expect(makeSchedule({ kind: 'linear', peakLr: 1, warmup: 0, totalSteps: 20 }).lr(5)).toBe(0.75);
    expect(makeSchedule({ kind: 'cosine', peakLr: 1, warmup: 0, totalSteps: 20 }).lr(0)).toBe(1);
    expect(lrMultiplier('linear', 19, 20, 20)).toBe(0.95);
    expect(lrMultiplier('linear', 20, 20, 20)).toBe(0); // max(1, N − w) guards the division
  });

  test('warmup: a fraction below 1 is ceil(ratio·N) (HF get_warmup_steps), 1 or more counts steps', () => {
    expect(warmupSteps(0.06, 10000)).toBe(600);
    expect(warmupSteps(0.06, 1001)).toBe(61); // 60.06 → 61
    expect(warmupSteps(0, 500)).toBe(0);
    expect(warmupSteps(1, 500)).toBe(1);
    expect(warmupSteps(250, 500)).toBe(250);
    expect(makeSchedule({ kind: 'linear', peakLr: 1, warmup: 0.1, totalSteps: 30 }).warmupSteps).toBe(3);
    expect(() => warmupSteps(1.5, 100)).toThrow(/whole number/);
    expect(() => warmupSteps(-0.1, 100)).toThrow(/warmup/);
    expect(() => makeSchedule({ kind: 'linear', peakLr: 1, warmup: 200, totalSteps: 100 })).toThrow(/longer than training/);
    expect(() => makeSchedule({ kind: 'step' as 'linear', peakLr: 1, warmup: 0, totalSteps: 100 })).toThrow(/unknown schedule/);
  });
});
