/**
 * Bradley–Terry scores against closed forms and the likelihood's stationarity condition:
 * - two systems: the MLE of P(1 beats 2) is w/(w+l), so π1/π2 = w/l (ties half a win each);
 * - three systems: at the MLE, wins_i = Σ_j n_ij·π_i/(π_i+π_j) for every i (Hunter 2004, eq. 2's gradient = 0);
 * - with the prior, the same condition with the virtual ties against a reference of strength 1 added;
 * - no MLE when a system never lost (prior 0 → null), finite with a prior; the bootstrap is seeded.
 */
import { bradleyTerryScores, eloScore, fitBradleyTerry, stronglyConnected, winMatrix, type Comparison } from '../../../src/turing/bradley-terry.js';

const votes = (a: string, b: string, outcome: Comparison['outcome'], n: number): Comparison[] => Array.from({ length: n }, () => ({ a, b, outcome }));

describe('Bradley–Terry', () => {
  test('two systems: strength ratio = wins / losses, the Elo-like gap 400·log10 of it', () => {
    const c = [...votes('x', 'y', 'a', 7), ...votes('x', 'y', 'b', 3)];
    const fit = fitBradleyTerry(['x', 'y'], winMatrix(['x', 'y'], c));
    const [tx, ty] = fit.logStrength!;
    expect(Math.exp(tx - ty)).toBeCloseTo(7 / 3, 9);
    expect(tx + ty).toBeCloseTo(0, 12); // centred
    expect(eloScore(tx) - eloScore(ty)).toBeCloseTo(400 * Math.log10(7 / 3), 6);
  });

  test('two systems with ties: each tie is half a win for both, (w + t/2) / (l + t/2)', () => {
    // y is listed first and wins by being side b: the orientation of a comparison does not matter
    const c = [...votes('y', 'x', 'b', 5), ...votes('x', 'y', 'b', 2), ...votes('x', 'y', 'tie', 2)];
    const [tx, ty] = fitBradleyTerry(['x', 'y'], winMatrix(['x', 'y'], c)).logStrength!;
    expect(Math.exp(tx - ty)).toBeCloseTo((5 + 1) / (2 + 1), 9);
  });

  test('three systems: the fit satisfies wins_i = Σ_j n_ij·π_i/(π_i+π_j)', () => {
    const systems = ['p', 'q', 'r'];
    const c = [...votes('p', 'q', 'a', 6), ...votes('p', 'q', 'b', 2), ...votes('q', 'r', 'a', 5), ...votes('q', 'r', 'b', 4),
      ...votes('r', 'p', 'a', 1), ...votes('r', 'p', 'b', 3), ...votes('p', 'r', 'tie', 2)];
    const W = winMatrix(systems, c);
    expect(W[0][2]).toBe(3 + 1); // p beat r 3 times (r lost as side a) and 2 ties count 1
    const pi = fitBradleyTerry(systems, W).logStrength!.map(Math.exp);
    for (let i = 0; i < 3; i++) {
      const wins = W[i].reduce((s, x) => s + x, 0);
      let expected = 0;
      for (let j = 0; j < 3; j++) if (j !== i) expected += (W[i][j] + W[j][i]) * pi[i] / (pi[i] + pi[j]);
      expect(expected).toBeCloseTo(wins, 9);
    }
    // p is best, r worst, as the hand-made counts say
    expect(pi[0]).toBeGreaterThan(pi[1]);
    expect(pi[1]).toBeGreaterThan(pi[2]);
  });

  test('the prior: stationarity with `prior` ties against a reference of strength 1', () => {
    const systems = ['p', 'q', 'r'];
    const c = [...votes('p', 'q', 'a', 4), ...votes('q', 'r', 'a', 3), ...votes('p', 'r', 'a', 2)]; // p never lost: no MLE
    const W = winMatrix(systems, c);
    expect(stronglyConnected(W)).toBe(false);
    expect(fitBradleyTerry(systems, W).logStrength).toBeNull();
    const prior = 1.5;
    const fit = fitBradleyTerry(systems, W, { prior });
    // The fit is centred; the reference's scale is that of the raw strengths: recover it from stationarity's
    // own form by checking the condition on π·s for the s that makes it hold for p, then for q and r.
    const theta = fit.logStrength!;
    const condition = (shift: number, i: number) => {
      const pi = theta.map((t) => Math.exp(t + shift));
      let expected = prior * pi[i] / (pi[i] + 1);
      for (let j = 0; j < 3; j++) if (j !== i) expected += (W[i][j] + W[j][i]) * pi[i] / (pi[i] + pi[j]);
      return W[i].reduce((s, x) => s + x, 0) + prior / 2 - expected;
    };
    // find the shift solving the condition for system 0 (monotone in the shift), then it must hold for all
    let lo = -20;
    let hi = 20;
    for (let k = 0; k < 200; k++) {
      const mid = (lo + hi) / 2;
      if (condition(mid, 0) > 0) lo = mid;
      else hi = mid;
    }
    for (let i = 0; i < 3; i++) expect(condition(lo, i)).toBeCloseTo(0, 8);
    expect(theta[0]).toBeGreaterThan(theta[1]);
    expect(theta[1]).toBeGreaterThan(theta[2]);
  });

  test('a system without comparisons: no MLE; with a prior it sits in the middle of the scale', () => {
    const W = winMatrix(['a', 'b', 'c'], [...votes('a', 'b', 'a', 2), ...votes('a', 'b', 'b', 1)]);
    expect(fitBradleyTerry(['a', 'b', 'c'], W).logStrength).toBeNull();
    const theta = fitBradleyTerry(['a', 'b', 'c'], W, { prior: 1 }).logStrength!;
    expect(theta[0]).toBeGreaterThan(theta[2]);
    expect(theta[2]).toBeGreaterThan(theta[1]);
  });

  test('the bootstrap is seeded: same votes and seed → the same intervals; another seed → others', () => {
    const systems = ['p', 'q', 'r'];
    const c = [...votes('p', 'q', 'a', 6), ...votes('p', 'q', 'b', 3), ...votes('q', 'r', 'a', 5), ...votes('q', 'r', 'b', 4),
      ...votes('r', 'p', 'a', 2), ...votes('r', 'p', 'b', 4), ...votes('p', 'r', 'tie', 1)];
    const a = bradleyTerryScores(systems, c, { seed: 7, resamples: 300, prior: 1 });
    const b = bradleyTerryScores(systems, c, { seed: 7, resamples: 300, prior: 1 });
    const other = bradleyTerryScores(systems, c, { seed: 8, resamples: 300, prior: 1 });
    expect(b.ci95).toEqual(a.ci95);
    expect(other.ci95).not.toEqual(a.ci95);
    for (const [i, ci] of a.ci95.entries()) {
      expect(ci![0]).toBeLessThan(a.scores[i]!);
      expect(ci![1]).toBeGreaterThan(a.scores[i]!);
    }
    // the point estimate does not depend on the seed
    expect(other.scores).toEqual(a.scores);
  });

  test('prior 0: an interval is null when some resample has no MLE', () => {
    const c = [...votes('x', 'y', 'a', 2), ...votes('x', 'y', 'b', 1)]; // resamples of 3 votes often lack a loss
    const s = bradleyTerryScores(['x', 'y'], c, { seed: 1, resamples: 200, prior: 0 });
    expect(s.scores[0]! - s.scores[1]!).toBeCloseTo(400 * Math.log10(2), 6);
    expect(s.ci95).toEqual([null, null]);
  });
});
