/**
 * What preprocess and augment do to one row, as one object both ways of running them share: the single-thread
 * stream calls it row by row, and each worker thread builds its own from a serializable TextJob and calls it on
 * its chunks, so the rows come out the same either way.
 */
export interface TextTransform {
  /** The new column's value for the text of data row `row` (1-based); null drops the row. */
  map(text: string, row: number): string | null;
  /** Counters so far (summed over workers), e.g. words replaced. */
  counts(): Record<string, number>;
}

/** A transform by name and settings, as it is sent to a worker thread. */
export type TextJob =
  | { kind: 'clean'; recipe: string }
  | { kind: 'augment'; synonymP: number; insertP: number; maxChanges?: number; seed: number };
