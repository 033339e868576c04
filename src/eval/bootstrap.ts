import { Rng } from '../util/rng.js';

/**
 * Percentile bootstrap (Efron & Tibshirani 1993, §13.3): resample the n rows with replacement B times, compute
 * the statistic on each resample, and take the (1−level)/2 and (1+level)/2 percentiles of the B values (2.5 and 97.5 for 95%). Here
 * the statistic is a mean (accuracy is the mean of 0/1 correctness). Same values and seed → the same interval.
 */

export const BOOTSTRAP_RESAMPLES = 1000;

/** The q-th percentile (q in [0, 100]) of ascending `sorted`, interpolated linearly (numpy.percentile's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of nothing');
  const at = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
}

export function ascending(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Percentile-bootstrap 95% confidence interval [lo, hi] of the mean of `values`: the 2.5th and 97.5th percentiles. */
export function bootstrapMeanCi95(values: ArrayLike<number>, o: { seed: number; resamples?: number }): [number, number] {
  const n = values.length;
  if (n === 0) throw new RangeError('bootstrap of nothing');
  const resamples = o.resamples ?? BOOTSTRAP_RESAMPLES;
  const rng = new Rng(o.seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[rng.int(n)];
    means[b] = sum / n;
  }
  means.sort();
  return [percentile(means, 2.5), percentile(means, 97.5)];
}
