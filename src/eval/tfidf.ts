/**
 * TF-IDF features as scikit-learn's TfidfVectorizer computes them with its defaults, for the bag-of-words
 * baseline of `compactlm eval`:
 *
 *   tokens  lowercase, then every maximal run of 2+ word characters (sklearn: token_pattern r"(?u)\b\w\w+\b";
 *           Python's \w is taken as letters, digits and "_", which it is up to rare Unicode corner cases)
 *   tf      raw count of the term in the text
 *   idf     ln((1 + n) / (1 + df)) + 1            (smooth_idf=True; n texts fitted, df texts with the term)
 *   row     tf·idf, scaled to unit L2 norm         (norm="l2"; a text without known terms stays all zeros)
 *
 * The vocabulary is every term of the fitted texts (min_df=1); terms met only later are ignored.
 */

const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** Rows of a sparse matrix in CSR form: row r has columns indices[indptr[r]..indptr[r+1]) with those values. */
export interface SparseRows {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

export class TfidfVectorizer {
  private constructor(
    private readonly vocabulary: Map<string, number>,
    private readonly idf: Float64Array,
  ) {}

  get features(): number {
    return this.idf.length;
  }

  /** Term → column, in order of first appearance (sklearn sorts its columns; the values are the same). */
  get terms(): ReadonlyMap<string, number> {
    return this.vocabulary;
  }

  static fit(texts: readonly string[]): TfidfVectorizer {
    const vocabulary = new Map<string, number>();
    const df: number[] = [];
    for (const text of texts) {
      for (const term of new Set(tokenize(text))) {
        let j = vocabulary.get(term);
        if (j === undefined) {
          vocabulary.set(term, (j = vocabulary.size));
          df.push(0);
        }
        df[j]++;
      }
    }
    const n = texts.length;
    return new TfidfVectorizer(vocabulary, Float64Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1));
  }

  transform(texts: readonly string[]): SparseRows {
    const indptr = new Int32Array(texts.length + 1);
    const indices: number[] = [];
    const values: number[] = [];
    texts.forEach((text, r) => {
      const counts = new Map<number, number>();
      for (const term of tokenize(text)) {
        const j = this.vocabulary.get(term);
        if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
      }
      const cols = [...counts.keys()].sort((a, b) => a - b);
      const row = cols.map((j) => counts.get(j)! * this.idf[j]);
      const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
      for (let i = 0; i < cols.length; i++) {
        indices.push(cols[i]);
        values.push(row[i] / norm);
      }
      indptr[r + 1] = indices.length;
    });
    return { rows: texts.length, cols: this.features, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values) };
  }
}
