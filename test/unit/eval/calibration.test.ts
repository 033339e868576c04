import { binOf, calibration, ECE_BINS } from '../../../src/eval/calibration.js';

describe('expected calibration error (Guo et al. 2017, 15 equal-width bins)', () => {
  test('hand-computed: three filled bins', () => {
    // 0.95 → bin (14/15, 1]: acc 1/2, conf 0.95 → 2/5·0.45
    // 0.55 → bin (8/15, 9/15]: acc 1, conf 0.55 → 2/5·0.45
    // 0.30 → bin (4/15, 5/15]: acc 0, conf 0.30 → 1/5·0.30
    const c = calibration([0.95, 0.95, 0.55, 0.55, 0.3], [true, false, true, true, false]);
    expect(c.ece).toBeCloseTo(0.4 * 0.45 + 0.4 * 0.45 + 0.2 * 0.3, 15);
    expect(c.bins).toHaveLength(ECE_BINS);
    expect(c.bins[14]).toEqual({ lo: 14 / 15, hi: 1, count: 2, accuracy: 0.5, confidence: 0.95 });
    expect(c.bins[8]).toMatchObject({ count: 2, accuracy: 1, confidence: 0.55 });
    expect(c.bins[4]).toMatchObject({ count: 1, accuracy: 0, confidence: 0.3 });
    expect(c.bins.filter((b) => b.count === 0).every((b) => b.accuracy === null && b.confidence === null)).toBe(true);
  });

  test('bins are (lo, hi]: a confidence on a boundary goes to the lower bin, 1 to the last, 0 to the first', () => {
    expect(binOf(0.2, 15)).toBe(2); // 3/15 is the top of bin 2, although 0.2·15 > 3 in floating point
    expect(binOf(1 / 3, 15)).toBe(4);
    expect(binOf(1, 15)).toBe(14);
    expect(binOf(0, 15)).toBe(0);
    expect(binOf(0.2000001, 15)).toBe(3);
    for (let k = 1; k <= 15; k++) expect(binOf(k / 15, 15)).toBe(k - 1);
  });

  test('perfectly calibrated bins give 0; always-wrong confident predictions give their confidence', () => {
    expect(calibration([0.5, 0.5, 1, 1], [true, false, true, true]).ece).toBe(0);
    expect(calibration([0.9, 0.9], [false, false]).ece).toBeCloseTo(0.9, 15);
  });

  test('float32 confidences are used as they are', () => {
    const conf = Float32Array.from([0.7, 0.7]);
    expect(calibration(conf, [true, true]).ece).toBeCloseTo(1 - conf[0], 15);
  });

  test('bad input is a RangeError', () => {
    expect(() => calibration([], [])).toThrow(RangeError);
    expect(() => calibration([1.5], [true])).toThrow(/outside/);
    expect(() => calibration([0.5, 0.5], [true])).toThrow(RangeError);
  });
});
