/**
 * Wilson score interval of a binomial proportion (Wilson 1927; without continuity correction, method 3 of
 * Newcombe 1998, "Two-sided confidence intervals for the single proportion"). Unlike the normal approximation
 * p ± z·√(p(1−p)/n), it stays inside [0, 1] and is not empty at 0 or n successes, which matters for the few
 * guesses a Turing test collects.
 *
 *   centre = (p + z²/2n) / (1 + z²/n),   half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)
 */

/** The 97.5th percentile of the standard normal (a two-sided 95% interval). */
export const Z95 = 1.959963984540054;

/** Wilson 95% interval [lo, hi] of `successes` out of `n` (n > 0). */
export function wilsonCi95(successes: number, n: number): [number, number] {
  if (!(n > 0) || successes < 0 || successes > n) throw new RangeError(`wilson: ${successes} of ${n}`);
  const p = successes / n;
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At 0 or n successes one bound is exactly 0 or 1; rounding must not push it past.
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}
