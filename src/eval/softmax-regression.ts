import type { SparseRows } from './tfidf.js';

/**
 * L2-regularized logistic regression on sparse features, fitted by full-batch L-BFGS: the model of scikit-learn's
 * LogisticRegression() with its defaults (C = 1, lbfgs, unpenalized intercept), so that the baseline is the one a
 * reader would build there. It minimizes (the same optimum as sklearn's C·Σ loss + ½‖W‖², scaled by 1/(C·n)):
 *
 *   f(W, b) = (1/n) Σ_i [logsumexp_c z_ic − z_i,y_i] + 1/(2·C·n) · Σ_c ‖w_c‖²,    z_ic = w_c·x_i + b_c
 *
 * over the classes that occur in the training labels (as sklearn's classes_). Three or more: multinomial
 * (softmax). Two: binomial, as sklearn fits it (class 0's score fixed at 0, so p = σ(w·x + b) with one penalized
 * w; a two-class softmax would halve the effective penalty). One: every prediction is that class.
 *
 * The objective is strictly convex and the start is W = 0, b = 0, so the result is deterministic (no seed) and
 * differs from sklearn's only by where each optimizer stops.
 */

export interface SoftmaxRegressionOptions {
  /** Inverse regularization strength (sklearn's C). */
  C?: number;
  maxIterations?: number;
  /** Stop when every gradient entry is at most this. */
  gradientTolerance?: number;
}

export class SoftmaxRegression {
  private constructor(
    /** Label ids of the fitted classes, ascending. */
    private readonly classes: number[],
    /** Ids the model predicts into: 0..labels−1. */
    private readonly labels: number,
    private readonly features: number,
    /** Feature-major [features + 1][free classes]: theta[j·F + f] is feature j's weight for class f, row `features` the intercepts. */
    private readonly theta: Float64Array,
  ) {}

  /** Fits on rows `x` with label ids `y` in [0, labels). */
  static fit(x: SparseRows, y: ArrayLike<number>, labels: number, o: SoftmaxRegressionOptions = {}): SoftmaxRegression {
    if (x.rows !== y.length || x.rows === 0) throw new RangeError(`${x.rows} rows but ${y.length} labels`);
    const classes = [...new Set(Array.from(y))].sort((a, b) => a - b);
    const d = x.cols;
    const free = freeClasses(classes.length);
    if (free === 0) return new SoftmaxRegression(classes, labels, d, new Float64Array(0));
    const classOf = new Map(classes.map((c, i) => [c, i]));
    const target = Int32Array.from(y, (c) => classOf.get(c)!);
    const C = o.C ?? 1;
    const objective = (theta: Float64Array, grad: Float64Array) => loss(x, target, classes.length, free, theta, grad, 1 / (C * x.rows));
    const theta = lbfgs(objective, new Float64Array(free * (d + 1)), {
      maxIterations: o.maxIterations ?? 1000,
      gradientTolerance: o.gradientTolerance ?? 1e-5,
    });
    return new SoftmaxRegression(classes, labels, d, theta);
  }

  /** Probabilities over all `labels` ids (0 for a class absent from the training labels), one array per row. */
  predictProba(x: SparseRows): Float64Array[] {
    const k = this.classes.length;
    const free = freeClasses(k);
    const z = new Float64Array(k);
    const out: Float64Array[] = [];
    for (let r = 0; r < x.rows; r++) {
      scores(x, r, free, k, this.features, this.theta, z);
      softmaxInPlace(z);
      const p = new Float64Array(this.labels);
      for (let c = 0; c < k; c++) p[this.classes[c]] = z[c];
      out.push(p);
    }
    return out;
  }

  /** The most probable label id of each row. */
  predict(x: SparseRows): Int32Array {
    return Int32Array.from(this.predictProba(x), (p) => {
      let best = 0;
      for (let j = 1; j < p.length; j++) if (p[j] > p[best]) best = j;
      return best;
    });
  }
}

/** Classes with their own parameters: none for one class, one (class 1 vs a fixed class 0) for two, else all. */
function freeClasses(k: number): number {
  return k === 1 ? 0 : k === 2 ? 1 : k;
}

/**
 * Scores z[0..k) of row r. With one free class (binomial) it is class 1's score and class 0 stays 0. The
 * feature-major layout makes the inner loop a contiguous run over the classes of one feature.
 */
function scores(x: SparseRows, r: number, free: number, k: number, d: number, theta: Float64Array, z: Float64Array): void {
  const offset = k - free; // 1 in the binomial case: parameters f belong to class f + 1
  z.fill(0);
  for (let f = 0; f < free; f++) z[f + offset] = theta[d * free + f];
  for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
    const base = x.indices[p] * free;
    const v = x.values[p];
    for (let f = 0; f < free; f++) z[f + offset] += theta[base + f] * v;
  }
}

/** Replaces scores by their softmax; returns logsumexp of the scores. */
function softmaxInPlace(z: Float64Array): number {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += (z[c] = Math.exp(z[c] - max));
  for (let c = 0; c < z.length; c++) z[c] /= sum;
  return max + Math.log(sum);
}

/** The objective f and its gradient (written into `grad`), for classes 0..k−1 of which `free` have parameters. */
function loss(x: SparseRows, y: Int32Array, k: number, free: number, theta: Float64Array, grad: Float64Array, l2: number): number {
  const d = x.cols;
  const n = x.rows;
  const offset = k - free;
  const z = new Float64Array(k);
  grad.fill(0);
  let total = 0;
  for (let r = 0; r < n; r++) {
    scores(x, r, free, k, d, theta, z);
    const score = z[y[r]];
    total += softmaxInPlace(z) - score;
    // ∂/∂z_c of the row's cross-entropy is p_c − [c = y]; scaled by 1/n here once
    z[y[r]] -= 1;
    for (let c = 0; c < k; c++) z[c] /= n;
    for (let f = 0; f < free; f++) grad[d * free + f] += z[f + offset];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const base = x.indices[p] * free;
      const v = x.values[p];
      for (let f = 0; f < free; f++) grad[base + f] += z[f + offset] * v;
    }
  }
  let penalty = 0;
  for (let i = 0; i < d * free; i++) {
    penalty += theta[i] * theta[i];
    grad[i] += l2 * theta[i];
  }
  return total / n + 0.5 * l2 * penalty;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithms 7.4 and 7.5) with a backtracking
 * (Armijo) line search, enough for a smooth convex objective. `fg` returns f(x) and writes ∇f(x) into its
 * second argument. Every vector is allocated once and reused: with many classes and features they are megabytes,
 * and fresh memory is slow to touch on some machines (ARCHITECTURE.md).
 */
export function lbfgs(
  fg: (x: Float64Array, grad: Float64Array) => number,
  x0: Float64Array,
  o: { maxIterations: number; gradientTolerance: number; memory?: number },
): Float64Array {
  const memory = o.memory ?? 10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  const dir = new Float64Array(n);
  const s: Float64Array[] = []; // the last `memory` steps x_{k+1} − x_k, newest last
  const yy: Float64Array[] = []; // and gradient changes g_{k+1} − g_k
  const alpha = new Float64Array(memory);
  for (let iter = 0; iter < o.maxIterations; iter++) {
    let gmax = 0;
    for (const v of g) gmax = Math.max(gmax, Math.abs(v));
    if (gmax <= o.gradientTolerance) break;

    // two-loop recursion: dir = −H·g, with H₀ = (s·y / y·y)·I from the newest pair (a unit step of −g/‖g‖ at first)
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let j = s.length - 1; j >= 0; j--) {
      alpha[j] = dot(s[j], dir) / dot(yy[j], s[j]);
      for (let i = 0; i < n; i++) dir[i] -= alpha[j] * yy[j][i];
    }
    const last = s.length - 1;
    const gamma = last >= 0 ? dot(s[last], yy[last]) / dot(yy[last], yy[last]) : 1 / Math.sqrt(dot(g, g));
    for (let i = 0; i < n; i++) dir[i] *= gamma;
    for (let j = 0; j < s.length; j++) {
      const beta = dot(yy[j], dir) / dot(yy[j], s[j]);
      for (let i = 0; i < n; i++) dir[i] += (alpha[j] - beta) * s[j][i];
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // not a descent direction (rounding): forget the curvature pairs and go down the gradient
      s.length = 0;
      yy.length = 0;
      const norm = Math.sqrt(dot(g, g));
      for (let i = 0; i < n; i++) dir[i] = -g[i] / norm;
      slope = dot(g, dir);
    }

    let step = 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNew < f)) break; // no decrease left at machine precision: as good as it gets

    // the new pair takes the arrays of the oldest one once the memory is full
    const sNew = s.length === memory ? s.shift()! : new Float64Array(n);
    const yNew = yy.length === memory ? yy.shift()! : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sNew[i] = xNew[i] - x[i];
      yNew[i] = gNew[i] - g[i];
    }
    if (dot(sNew, yNew) > 1e-12 * dot(yNew, yNew)) {
      s.push(sNew);
      yy.push(yNew);
    }
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = fNew;
  }
  return x;
}
