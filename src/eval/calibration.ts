/**
 * Calibration of a classifier's confidence (the largest softmax probability), as in Guo et al. 2017, "On
 * Calibration of Modern Neural Networks", §2: the confidences are split into M equal-width bins
 * B_m = ((m−1)/M, m/M], and
 *
 *   ECE = Σ_m |B_m|/n · |acc(B_m) − conf(B_m)|
 *
 * where acc is the share of correct predictions in the bin and conf its mean confidence. The bins are also the
 * points of the reliability diagram (accuracy against confidence; a calibrated model lies on the diagonal).
 */

export const ECE_BINS = 15;

export interface ReliabilityBin {
  /** The bin is (lo, hi]; the first one also takes a confidence of exactly 0. */
  lo: number;
  hi: number;
  count: number;
  /** Share correct and mean confidence in the bin; null when it is empty. */
  accuracy: number | null;
  confidence: number | null;
}

export interface Calibration {
  ece: number;
  bins: ReliabilityBin[];
}

/** The bin of a confidence: the m with (m/M, (m+1)/M] holding it, boundaries computed as m/M (no drift from c·M). */
export function binOf(confidence: number, bins: number): number {
  let m = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
  while (m > 0 && confidence <= m / bins) m--;
  while (m < bins - 1 && confidence > (m + 1) / bins) m++;
  return m;
}

/** Reliability bins and ECE of `confidence[i]` (in [0, 1]) with `correct[i]` saying whether prediction i was right. */
export function calibration(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = ECE_BINS): Calibration {
  const n = confidence.length;
  if (n !== correct.length || n === 0) throw new RangeError(`bad lengths ${n} and ${correct.length}`);
  const count = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const c = confidence[i];
    if (!(c >= 0 && c <= 1)) throw new RangeError(`confidence ${c} at row ${i} is outside [0, 1]`);
    const m = binOf(c, bins);
    count[m]++;
    confSum[m] += c;
    if (correct[i]) hits[m]++;
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let m = 0; m < bins; m++) {
    const acc = count[m] === 0 ? null : hits[m] / count[m];
    const conf = count[m] === 0 ? null : confSum[m] / count[m];
    if (acc !== null && conf !== null) ece += (count[m] / n) * Math.abs(acc - conf);
    out.push({ lo: m / bins, hi: (m + 1) / bins, count: count[m], accuracy: acc, confidence: conf });
  }
  return { ece, bins: out };
}
