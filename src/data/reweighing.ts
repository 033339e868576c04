import { mapCsv, type MapCsvSummary } from './csv.js';
import type { BiasOptions, GroupCounts } from './bias.js';
import { UserError } from '../util/errors.js';

/**
 * Kamiran–Calders reweighing (F. Kamiran and T. Calders, "Data Preprocessing Techniques for Classification without
 * Discrimination", KAIS 2012), as AIF360's `Reweighing.fit` (aif360/algorithms/preprocessing/reweighing.py):
 * each row of group g with label y gets
 *
 *     w(g, y) = P(g)·P(y) / P(g, y) = n_g · n_y / (n · n_gy)
 *
 * i.e. the weight that makes group and label independent in the weighted data. Then the weighted favorable rate
 * of every group is Σ_fav w / Σ w = (n_g·n_fav/n) / n_g = n_fav / n, so the weighted disparate impact is exactly 1
 * whenever all four (group, label) cells are non-empty.
 */

export interface CellWeights {
  favorable: number | null;
  unfavorable: number | null;
}

export interface ReweighingWeights {
  privileged: CellWeights;
  unprivileged: CellWeights;
}

/** Weights for the four (group, label) cells; null for an empty cell (no row would use it). */
export function reweighingWeights(groups: { privileged: GroupCounts; unprivileged: GroupCounts }): {
  weights: ReweighingWeights;
  warnings: string[];
} {
  const { privileged: p, unprivileged: u } = groups;
  const n = p.count + u.count;
  const nFav = p.favorable + u.favorable;
  const nUnfav = n - nFav;
  const w = (ng: number, ny: number, ngy: number): number | null => (ngy === 0 ? null : (ng * ny) / (n * ngy));
  const weights: ReweighingWeights = {
    privileged: { favorable: w(p.count, nFav, p.favorable), unfavorable: w(p.count, nUnfav, p.count - p.favorable) },
    unprivileged: { favorable: w(u.count, nFav, u.favorable), unfavorable: w(u.count, nUnfav, u.count - u.favorable) },
  };
  const warnings: string[] = [];
  for (const name of ['privileged', 'unprivileged'] as const) {
    const g = groups[name];
    if (g.count === 0) continue;
    for (const label of ['favorable', 'unfavorable'] as const) {
      const ny = label === 'favorable' ? nFav : nUnfav;
      // an empty cell matters only if another group has that label: then the weighted base rates stay unequal
      if (weights[name][label] === null && ny > 0) {
        warnings.push(`reweighing cannot equalize base rates: the ${name} group has no ${label} rows`);
      }
    }
  }
  return { weights, warnings };
}

/** The weight of one row, or null when its cell is empty (cannot happen for a row that exists). */
export function rowWeight(weights: ReweighingWeights, privileged: boolean, favorable: boolean): number | null {
  const g = privileged ? weights.privileged : weights.unprivileged;
  return favorable ? g.favorable : g.unfavorable;
}

/** Second streaming pass: every input row and column, plus `weight`, written atomically to `output`. */
export async function writeReweighted(
  input: string,
  output: string,
  opts: BiasOptions,
  weights: ReweighingWeights,
): Promise<MapCsvSummary> {
  const privileged = opts.privileged.trim();
  const favorable = opts.favorable.trim();
  return mapCsv({
    input,
    output,
    requireColumns: [opts.protected, opts.label],
    addColumns: ['weight'],
    map: ({ record, line }) => {
      if ('weight' in record) throw new UserError(`${input}: already has a "weight" column (rename it before reweighing)`);
      const w = rowWeight(weights, record[opts.protected].trim() === privileged, record[opts.label].trim() === favorable);
      // the counts came from the same file a moment ago; a change in between would show up here
      if (w === null) throw new UserError(`${input}:${line}: this row's (group, label) cell was empty in the first pass (file changed while reading?)`);
      return { weight: String(w) };
    },
  });
}
