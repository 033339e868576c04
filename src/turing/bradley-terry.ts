/**
 * Bradley–Terry scores from pairwise votes: P(i beats j) = π_i / (π_i + π_j).
 *
 * Fitted by Hunter's MM algorithm (Hunter 2004, "MM algorithms for generalized Bradley–Terry models", eq. 3):
 *
 *   π_i ← W_i / Σ_{j≠i} n_ij / (π_i + π_j)
 *
 * with W_i the wins of i and n_ij the comparisons of i and j. A tie counts as half a win for each side (so
 * W_i = wins_i + ties_i / 2); "both bad" votes say nothing about the order and are left out (the report counts
 * them separately). At the fixed point the likelihood is stationary: W_i = Σ_j n_ij π_i / (π_i + π_j).
 *
 * The maximum-likelihood estimate exists only when the "beat" graph is strongly connected (Hunter's Assumption 1:
 * every system won at least once against some system of every other group); with a few votes it often is not
 * (a system that never lost has π = ∞). `prior` adds that many virtual ties of every system against a fixed
 * reference of strength 1 (half a win, half a loss each), which keeps every score finite and pulls systems with
 * few votes towards the middle; prior 0 is the plain MLE, and null when it does not exist.
 *
 * Scores are log-strengths θ_i = ln π_i centred to mean 0, and reported on an Elo-like scale
 * 1000 + 400·log10(π_i / geometric mean): a gap of 400 points means 10:1 odds of winning.
 */
import { percentile } from '../eval/bootstrap.js';
import { Rng } from '../util/rng.js';

export type Outcome = 'a' | 'b' | 'tie';

/** One vote between two systems: `a` won, `b` won, or a tie. */
export interface Comparison {
  a: string;
  b: string;
  outcome: Outcome;
}

export interface BtOptions {
  /** Virtual ties of every system against a reference of strength 1 (0: the plain MLE). */
  prior?: number;
  /** Stop when no log-strength moves more than this in an iteration. */
  tolerance?: number;
  maxIterations?: number;
}

export interface BtFit {
  systems: string[];
  /** ln π_i, mean 0 over the systems; null when the MLE does not exist (prior 0). */
  logStrength: number[] | null;
  iterations: number;
}

/** W[i][j]: wins of systems[i] over systems[j], ties counting half to each. */
export function winMatrix(systems: readonly string[], comparisons: readonly Comparison[]): Float64Array[] {
  const index = new Map(systems.map((s, i) => [s, i]));
  const W = systems.map(() => new Float64Array(systems.length));
  for (const c of comparisons) {
    const a = index.get(c.a);
    const b = index.get(c.b);
    if (a === undefined || b === undefined) throw new Error(`comparison of unknown systems ${c.a} / ${c.b}`);
    if (a === b) throw new Error(`comparison of ${c.a} with itself`);
    if (c.outcome === 'a') W[a][b] += 1;
    else if (c.outcome === 'b') W[b][a] += 1;
    else {
      W[a][b] += 0.5;
      W[b][a] += 0.5;
    }
  }
  return W;
}

/** Whether every system can reach every other along "beat at least half a time" edges (the MLE exists). */
export function stronglyConnected(W: readonly Float64Array[]): boolean {
  const k = W.length;
  if (k <= 1) return true;
  const reach = (forward: boolean) => {
    const seen = new Uint8Array(k);
    const stack = [0];
    seen[0] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      for (let j = 0; j < k; j++) {
        if (!seen[j] && (forward ? W[i][j] : W[j][i]) > 0) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    return seen.every((x) => x === 1);
  };
  return reach(true) && reach(false);
}

/** Fits the strengths of `systems` to the win matrix `W` (see the top of the file). */
export function fitBradleyTerry(systems: readonly string[], W: readonly Float64Array[], o: BtOptions = {}): BtFit {
  const prior = o.prior ?? 0;
  const tolerance = o.tolerance ?? 1e-10;
  const maxIterations = o.maxIterations ?? 100_000;
  const k = systems.length;
  if (prior < 0 || !Number.isFinite(prior)) throw new RangeError(`prior must be ≥ 0, got ${prior}`);
  if (prior === 0 && !stronglyConnected(W)) return { systems: [...systems], logStrength: null, iterations: 0 };

  const wins = W.map((row) => row.reduce((s, x) => s + x, 0) + prior / 2);
  let pi = new Float64Array(k).fill(1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const next = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let denom = prior / (pi[i] + 1);
      for (let j = 0; j < k; j++) {
        const n = W[i][j] + W[j][i];
        if (j !== i && n > 0) denom += n / (pi[i] + pi[j]);
      }
      next[i] = wins[i] / denom;
    }
    // Without the reference the likelihood only fixes ratios: rescale to geometric mean 1 so nothing drifts.
    if (prior === 0) {
      const g = Math.exp(next.reduce((s, x) => s + Math.log(x), 0) / k);
      for (let i = 0; i < k; i++) next[i] /= g;
    }
    let moved = 0;
    for (let i = 0; i < k; i++) moved = Math.max(moved, Math.abs(Math.log(next[i]) - Math.log(pi[i])));
    pi = next;
    if (moved < tolerance) {
      iterations++;
      break;
    }
  }
  const theta = Array.from(pi, Math.log);
  const mean = theta.reduce((s, x) => s + x, 0) / k;
  return { systems: [...systems], logStrength: theta.map((t) => t - mean), iterations };
}

/** The Elo-like score of a centred log-strength: 1000 + 400·log10(π / geometric mean). */
export function eloScore(logStrength: number): number {
  return 1000 + (400 / Math.LN10) * logStrength;
}

export interface BtScores {
  systems: string[];
  /** Elo-like score per system (null: the MLE does not exist, prior 0). */
  scores: (number | null)[];
  /** Percentile-bootstrap 95% interval per system (null where some resample had no MLE). */
  ci95: ([number, number] | null)[];
  resamples: number;
}

/**
 * Scores with percentile-bootstrap 95% intervals: the votes are resampled with replacement `resamples` times
 * (seeded: same votes and seed → the same intervals), refitted, and the 2.5th and 97.5th percentiles taken.
 */
export function bradleyTerryScores(systems: readonly string[], comparisons: readonly Comparison[],
  o: BtOptions & { seed: number; resamples: number }): BtScores {
  const toScores = (fit: BtFit) => fit.logStrength?.map(eloScore) ?? null;
  const full = toScores(fitBradleyTerry(systems, winMatrix(systems, comparisons), o));
  const k = systems.length;
  const samples = systems.map(() => new Float64Array(o.resamples));
  let estimable = comparisons.length > 0;
  const rng = new Rng(o.seed);
  const resample = new Array<Comparison>(comparisons.length);
  for (let r = 0; r < o.resamples && estimable; r++) {
    for (let i = 0; i < comparisons.length; i++) resample[i] = comparisons[rng.int(comparisons.length)];
    const s = toScores(fitBradleyTerry(systems, winMatrix(systems, resample), o));
    if (!s) estimable = false;
    else for (let i = 0; i < k; i++) samples[i][r] = s[i];
  }
  const ci95 = systems.map((_, i): [number, number] | null => {
    if (!estimable || full === null) return null;
    const sorted = samples[i].sort();
    return [percentile(sorted, 2.5), percentile(sorted, 97.5)];
  });
  return { systems: [...systems], scores: full ?? systems.map(() => null), ci95, resamples: o.resamples };
}
