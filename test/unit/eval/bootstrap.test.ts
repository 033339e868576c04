import { ascending, bootstrapMeanCi95, percentile } from '../../../src/eval/bootstrap.js';
import { Rng } from '../../../src/util/rng.js';

describe('percentile (numpy.percentile, linear interpolation)', () => {
  test('hand-computed values', () => {
    // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 95, 100]) = [1, 1.75, 2.5, 3.85, 4]
    const x = [1, 2, 3, 4];
    expect(percentile(x, 0)).toBe(1);
    expect(percentile(x, 25)).toBe(1.75);
    expect(percentile(x, 50)).toBe(2.5);
    expect(percentile(x, 95)).toBeCloseTo(3.85, 14);
    expect(percentile(x, 100)).toBe(4);
    expect(percentile([7], 95)).toBe(7);
  });

  test('ascending sorts numerically (not as strings)', () => {
    expect(Array.from(ascending([10, 9, 100, 1]))).toEqual([1, 9, 10, 100]);
  });
});

describe('percentile bootstrap of a mean', () => {
  test('the same seed gives the same interval; another seed another one', () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 200 }, () => (rng.next() < 0.7 ? 1 : 0));
    const a = bootstrapMeanCi95(x, { seed: 42 });
    expect(bootstrapMeanCi95(x, { seed: 42 })).toEqual(a);
    expect(bootstrapMeanCi95(x, { seed: 43 })).not.toEqual(a);
  });

  test('is the 2.5th and 97.5th percentile of the resampled means, drawn with Rng.int', () => {
    const x = [1, 0, 1, 1, 0, 1, 0, 1];
    const rng = new Rng(9);
    const means: number[] = [];
    for (let b = 0; b < 50; b++) {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[rng.int(x.length)];
      means.push(s / x.length);
    }
    const sorted = ascending(means);
    expect(bootstrapMeanCi95(x, { seed: 9, resamples: 50 })).toEqual([percentile(sorted, 2.5), percentile(sorted, 97.5)]);
  });

  test('brackets the mean, and its width is close to the normal approximation for accuracy 0.8 on 400 rows', () => {
    const x = Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? 0 : 1));
    const [lo, hi] = bootstrapMeanCi95(x, { seed: 1 });
    expect(lo).toBeLessThan(0.8);
    expect(hi).toBeGreaterThan(0.8);
    const normal = 2 * 1.96 * Math.sqrt((0.8 * 0.2) / 400); // 0.0784
    expect(Math.abs(hi - lo - normal)).toBeLessThan(0.015);
  });

  test('a constant sample has a zero-width interval', () => {
    expect(bootstrapMeanCi95([1, 1, 1], { seed: 0 })).toEqual([1, 1]);
  });
});
