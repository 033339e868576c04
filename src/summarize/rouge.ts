/**
 * ROUGE (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries") with the definitions of Google's
 * `rouge_score` package (rouge_scorer.py, tokenize.py), so numbers compare with the papers that report it:
 *
 *   const s = rougeScores(reference, candidate, { stem: true });
 *   s.rouge1.f1, s.rouge2.f1, s.rougeL.f1, s.rougeLsum.f1        // each also has precision and recall
 *
 * - Tokens: lower-case, every run of characters outside [a-z0-9] becomes a space, split on spaces; with `stem`
 *   each token longer than 3 characters is replaced by its Porter stem (nltk's, porter.ts); empty tokens dropped.
 * - ROUGE-N: n-grams with counts; overlap = Σ min(count in reference, count in candidate) ("clipped");
 *   precision = overlap / candidate n-grams, recall = overlap / reference n-grams (each denominator at least 1).
 * - ROUGE-L: the longest common subsequence of the two token lists; P = LCS / |candidate|, R = LCS / |reference|.
 * - ROUGE-Lsum: summary-level LCS. Both texts are split into sentences at "\n" (empty lines dropped); for each
 *   reference sentence the union of its LCS token positions with every candidate sentence is taken, and each
 *   token of the union counts as a hit while both texts still have an unused copy of it. P = hits / candidate
 *   tokens, R = hits / reference tokens. Which LCS is taken when several exist follows rouge_score's backtrack.
 * - F1 = 2PR / (P + R), 0 when P + R = 0. The reference is rouge_score's `target`, the candidate its `prediction`.
 */
import { porterStem } from './porter.js';

export interface RougeScore {
  precision: number;
  recall: number;
  f1: number;
}

export const ROUGE_TYPES = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const;
export type RougeType = (typeof ROUGE_TYPES)[number];
export type RougeScores = Record<RougeType, RougeScore>;

export interface RougeOptions {
  /** Porter-stem tokens longer than 3 characters (rouge_score's use_stemmer). */
  stem?: boolean;
}

/** rouge_score's tokenizer. */
export function rougeTokens(text: string, o: RougeOptions = {}): string[] {
  const tokens = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/);
  const out: string[] = [];
  for (const t of tokens) {
    const s = o.stem && t.length > 3 ? porterStem(t) : t;
    if (/^[a-z0-9]+$/.test(s)) out.push(s);
  }
  return out;
}

export function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/** Counts of the n-grams of `tokens` (keyed by the tokens joined with a space: tokens hold no spaces). */
export function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N from n-gram counts of the reference and the candidate. */
export function scoreNgrams(reference: Map<string, number>, candidate: Map<string, number>): RougeScore {
  let overlap = 0;
  let refTotal = 0;
  let candTotal = 0;
  for (const [gram, c] of reference) {
    overlap += Math.min(c, candidate.get(gram) ?? 0);
    refTotal += c;
  }
  for (const c of candidate.values()) candTotal += c;
  const precision = overlap / Math.max(candTotal, 1);
  const recall = overlap / Math.max(refTotal, 1);
  return { precision, recall, f1: fmeasure(precision, recall) };
}

export function rougeN(refTokens: readonly string[], candTokens: readonly string[], n: number): RougeScore {
  return scoreNgrams(ngramCounts(refTokens, n), ngramCounts(candTokens, n));
}

/** Length of the longest common subsequence (two rows of the table: memory linear in the shorter list). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let prev = new Uint32Array(short.length + 1);
  let row = new Uint32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    for (let j = 1; j <= short.length; j++) {
      row[j] = long[i - 1] === short[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1]);
    }
    [prev, row] = [row, prev];
  }
  return prev[short.length];
}

export function rougeL(refTokens: readonly string[], candTokens: readonly string[]): RougeScore {
  if (refTokens.length === 0 || candTokens.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const lcs = lcsLength(refTokens, candTokens);
  const precision = lcs / candTokens.length;
  const recall = lcs / refTokens.length;
  return { precision, recall, f1: fmeasure(precision, recall) };
}

/** Positions in `ref` of one LCS of `ref` and `cand`, ascending: rouge_score's _lcs_table + _backtrack_norec. */
export function lcsPositions(ref: readonly string[], cand: readonly string[]): number[] {
  const cols = cand.length + 1;
  const t = new Uint32Array((ref.length + 1) * cols);
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= cand.length; j++) {
      t[i * cols + j] = ref[i - 1] === cand[j - 1] ? t[(i - 1) * cols + j - 1] + 1 : Math.max(t[(i - 1) * cols + j], t[i * cols + j - 1]);
    }
  }
  const out: number[] = [];
  let i = ref.length;
  let j = cand.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === cand[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i * cols + j - 1] > t[(i - 1) * cols + j]) j--;
    else i--;
  }
  return out.reverse();
}

/** Summary-level LCS over sentences of tokens (rouge_score's _summary_level_lcs). */
export function rougeLsum(refSents: readonly (readonly string[])[], candSents: readonly (readonly string[])[]): RougeScore {
  const zero = { precision: 0, recall: 0, f1: 0 };
  if (refSents.length === 0 || candSents.length === 0) return zero;
  const m = refSents.reduce((s, x) => s + x.length, 0);
  const n = candSents.reduce((s, x) => s + x.length, 0);
  if (m === 0 || n === 0) return zero;
  const refLeft = new Map<string, number>();
  const candLeft = new Map<string, number>();
  for (const s of refSents) for (const t of s) refLeft.set(t, (refLeft.get(t) ?? 0) + 1);
  for (const s of candSents) for (const t of s) candLeft.set(t, (candLeft.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of refSents) {
    const union = new Set<number>();
    for (const c of candSents) for (const p of lcsPositions(r, c)) union.add(p);
    for (const p of [...union].sort((a, b) => a - b)) {
      const t = r[p];
      if ((candLeft.get(t) ?? 0) > 0 && (refLeft.get(t) ?? 0) > 0) {
        hits++;
        candLeft.set(t, candLeft.get(t)! - 1);
        refLeft.set(t, refLeft.get(t)! - 1);
      }
    }
  }
  const precision = hits / n;
  const recall = hits / m;
  return { precision, recall, f1: fmeasure(precision, recall) };
}

/** rouge_score's sentences for ROUGE-Lsum: the lines of the text, empty ones dropped. */
export function summaryLines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

/** ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum of `candidate` against `reference`. */
export function rougeScores(reference: string, candidate: string, o: RougeOptions = {}): RougeScores {
  const ref = rougeTokens(reference, o);
  const cand = rougeTokens(candidate, o);
  return {
    rouge1: rougeN(ref, cand, 1),
    rouge2: rougeN(ref, cand, 2),
    rougeL: rougeL(ref, cand),
    rougeLsum: rougeLsum(summaryLines(reference).map((s) => rougeTokens(s, o)), summaryLines(candidate).map((s) => rougeTokens(s, o))),
  };
}
