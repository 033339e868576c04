/**
 * The Wilson score interval against the published values of Newcombe (1998), "Two-sided confidence intervals for
 * the single proportion: comparison of seven methods", Statistics in Medicine 17, Table I, method 3 (also what
 * scipy.stats.binomtest(k, n).proportion_ci(method='wilson') gives).
 */
import { wilsonCi95 } from '../../../src/turing/wilson.js';

describe('wilsonCi95', () => {
  test.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i of %i → [%f, %f] (Newcombe 1998, Table I)', (k, n, lo, hi) => {
    const [a, b] = wilsonCi95(k, n);
    expect(a).toBeCloseTo(lo, 4);
    expect(b).toBeCloseTo(hi, 4);
  });

  test('all successes: upper bound exactly 1; symmetric around 1/2', () => {
    expect(wilsonCi95(29, 29)[1]).toBe(1);
    expect(wilsonCi95(29, 29)[0]).toBeCloseTo(0.8830, 4);
    const [lo, hi] = wilsonCi95(5, 10);
    expect(lo + hi).toBeCloseTo(1, 12);
  });

  test('refuses an impossible count', () => {
    expect(() => wilsonCi95(3, 2)).toThrow(RangeError);
    expect(() => wilsonCi95(0, 0)).toThrow(RangeError);
  });
});
