import { readCsv } from './csv.js';
import { log } from '../util/log.js';

/**
 * Value counts of one CSV column (the distribution `plot` draws), streamed. Values are compared after trimming.
 * Memory is bounded: after MAX_DISTINCT different values, values not seen before are no longer counted one by one
 * but summed into the "(other)" bucket (and the result says so).
 */

export const MAX_DISTINCT = 100_000;

export interface ValueCount {
  value: string;
  count: number;
}

export interface ValueCounts {
  rows: number;
  /** Distinct values counted one by one (all of them unless `truncated`). */
  distinct: number;
  /** Sorted by count (descending), ties by value (code-point order), at most `top` entries. */
  top: ValueCount[];
  /** What the top list leaves out: how many values and rows ("(other)" bar); null when nothing is left out. */
  other: { values: number; count: number } | null;
  /** True when more than MAX_DISTINCT distinct values were seen (values first seen after that are in `other`). */
  truncated: boolean;
}

/** Sorts counts and keeps the `top` most frequent; the rest becomes one "(other)" bucket. */
export function topCounts(counts: Map<string, number>, top: number, overflow = 0): Pick<ValueCounts, 'top' | 'other'> {
  const all = [...counts].map(([value, count]) => ({ value, count }));
  all.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const kept = all.slice(0, top);
  const rest = all.slice(top);
  const otherCount = rest.reduce((s, v) => s + v.count, 0) + overflow;
  return { top: kept, other: rest.length > 0 || overflow > 0 ? { values: rest.length, count: otherCount } : null };
}

export async function valueCounts(
  input: string,
  column: string,
  opts: { top: number; maxDistinct?: number },
): Promise<ValueCounts> {
  const maxDistinct = opts.maxDistinct ?? MAX_DISTINCT;
  const reader = await readCsv(input, { requireColumns: [column] });
  const counts = new Map<string, number>();
  let rows = 0;
  let overflow = 0;
  for await (const { record } of reader.rows) {
    rows++;
    const v = (record[column] ?? '').trim();
    const n = counts.get(v);
    if (n !== undefined) counts.set(v, n + 1);
    else if (counts.size < maxDistinct) counts.set(v, 1);
    else overflow++;
  }
  const truncated = overflow > 0;
  if (truncated) {
    log().warn(`${input}: column "${column}" has more than ${maxDistinct} distinct values; ` +
      `${overflow} rows with values first seen after that are counted in "(other)"`);
  }
  return { rows, distinct: counts.size, truncated, ...topCounts(counts, opts.top, overflow) };
}
