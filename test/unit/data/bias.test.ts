import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { addRow, biasMetrics, biasReport, countBias, emptyCounts, type BiasCounts, type GroupCounts } from '../../../src/data/bias.js';
import { reweighingWeights, writeReweighted } from '../../../src/data/reweighing.js';
import { Rng } from '../../../src/util/rng.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/bias-small.csv', import.meta.url));
const OPTS = { protected: 'sex', label: 'hired', privileged: 'male', favorable: 'yes' };

/** Every number in a JSON-able value is finite (JSON.stringify would silently turn NaN/Infinity into null). */
function allFinite(x: unknown): boolean {
  if (typeof x === 'number') return Number.isFinite(x);
  if (x && typeof x === 'object') return Object.values(x).every(allFinite);
  return true;
}

function counts(privileged: GroupCounts, unprivileged: GroupCounts): BiasCounts {
  return { rows: privileged.count + unprivileged.count, privileged, unprivileged, byValue: new Map(), byValueTruncated: false };
}

/** Builds group counts from (label favorable, predicted favorable) pairs. */
function group(rows: [boolean, boolean?][]): GroupCounts {
  const g = emptyCounts();
  for (const [y, p] of rows) addRow(g, y, p);
  return g;
}

describe('bias metrics on the hand-computed fixture (test/fixtures/bias-small.csv)', () => {
  // privileged "male": 6 rows, 4 hired; TP 3, FN 1, FP 1, TN 1
  // unprivileged: female 4 rows (1 hired) + nonbinary 2 rows (1 hired); TP 1, FN 1, FP 1, TN 3
  test('dataset metrics: DI = (2/6)/(4/6) = 0.5, SPD = 2/6 − 4/6 = −1/3', async () => {
    const { report } = await biasReport(FIXTURE, OPTS);
    expect(report.rows).toBe(12);
    expect(report.disparate_impact).toBeCloseTo(0.5, 15);
    expect(report.statistical_parity_difference).toBeCloseTo(-1 / 3, 15);
    expect(report.groups.privileged).toEqual({ count: 6, favorable: 4, base_rate: 4 / 6 });
    expect(report.groups.unprivileged).toEqual({ count: 6, favorable: 2, base_rate: 2 / 6 });
    // values are trimmed (" male ", "female "), listed in order of first appearance
    expect(Object.keys(report.groups.by_value)).toEqual(['male', 'female', 'nonbinary']);
    expect(report.groups.by_value.female).toEqual({ count: 4, favorable: 1, base_rate: 0.25 });
    expect(report).not.toHaveProperty('equal_opportunity_difference');
    expect(report.warnings).toEqual([]);
  });

  test('classification metrics: EOD = 1/2 − 3/4, AOD = ½[(1/4 − 1/2) + (1/2 − 3/4)], accuracy 4/6', async () => {
    const { report } = await biasReport(FIXTURE, { ...OPTS, prediction: 'predicted' });
    expect(report.equal_opportunity_difference).toBeCloseTo(-0.25, 15);
    expect(report.average_odds_difference).toBeCloseTo(-0.25, 15);
    expect(report.groups.privileged).toMatchObject({ tp: 3, fn: 1, fp: 1, tn: 1, tpr: 0.75, fpr: 0.5, accuracy: 4 / 6, selection_rate: 4 / 6 });
    expect(report.groups.unprivileged).toMatchObject({ tp: 1, fn: 1, fp: 1, tn: 3, tpr: 0.5, fpr: 0.25, accuracy: 4 / 6 });
    expect(report.groups.by_value.female).toMatchObject({ tpr: 0, fpr: 1 / 3, accuracy: 0.5 });
    expect(report.groups.by_value.nonbinary).toMatchObject({ tpr: 1, fpr: 0, accuracy: 1 });
  });

  test('the privileged value must be present: one line naming the file, the column and the values', async () => {
    await expect(countBias(FIXTURE, { ...OPTS, privileged: 'Male' })).rejects.toThrow(
      `${FIXTURE}: column "sex" has no value "Male" (--privileged); values present: "male", "female", "nonbinary" ` +
      '(values are case-sensitive: did you mean "male"?)');
  });

  test('a missing column is the CSV reader\'s error listing the columns', async () => {
    await expect(countBias(FIXTURE, { ...OPTS, prediction: 'pred' })).rejects.toThrow(/:1: no column "pred" \(columns: "id", "text", "sex", "hired", "predicted"\)/);
  });
});

describe('metrics against their definitions on random data', () => {
  test('biasMetrics equals the AIF360 formulas computed row by row', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 50; trial++) {
      const rows = Array.from({ length: 20 + rng.int(200) }, () => ({
        priv: rng.next() < 0.4, y: rng.next() < 0.3 + 0.3 * rng.next(), p: rng.next() < 0.5,
      }));
      rows.push({ priv: true, y: true, p: true }, { priv: true, y: false, p: false }, { priv: false, y: true, p: false }, { priv: false, y: false, p: true });
      const g = (priv: boolean): GroupCounts => group(rows.filter((r) => r.priv === priv).map((r) => [r.y, r.p]));
      const m = biasMetrics(counts(g(true), g(false)), true);

      const rate = (sel: (r: typeof rows[0]) => boolean, cond: (r: typeof rows[0]) => boolean): number =>
        rows.filter((r) => cond(r) && sel(r)).length / rows.filter(cond).length;
      const base = (priv: boolean): number => rate((r) => r.y, (r) => r.priv === priv);
      const tpr = (priv: boolean): number => rate((r) => r.p, (r) => r.priv === priv && r.y);
      const fpr = (priv: boolean): number => rate((r) => r.p, (r) => r.priv === priv && !r.y);
      const acc = (priv: boolean): number => rate((r) => r.p === r.y, (r) => r.priv === priv);

      expect(m.disparate_impact).toBeCloseTo(base(false) / base(true), 12);
      expect(m.statistical_parity_difference).toBeCloseTo(base(false) - base(true), 12);
      expect(m.equal_opportunity_difference).toBeCloseTo(tpr(false) - tpr(true), 12);
      expect(m.average_odds_difference).toBeCloseTo(0.5 * (fpr(false) - fpr(true) + tpr(false) - tpr(true)), 12);
      expect(m.groups.unprivileged.accuracy).toBeCloseTo(acc(false), 12);
      // identities between the metrics: DI = 1 + SPD / base_priv
      expect(m.disparate_impact!).toBeCloseTo(1 + m.statistical_parity_difference! / m.groups.privileged.base_rate!, 12);
      expect(m.warnings).toEqual([]);
    }
  });
});

describe('undefined metrics are null with a warning, never NaN or Infinity', () => {
  test('empty unprivileged group: base rate, DI and SPD are null', () => {
    const m = biasMetrics(counts(group([[true], [false]]), emptyCounts()), false);
    expect(m.groups.unprivileged.base_rate).toBeNull();
    expect(m.disparate_impact).toBeNull();
    expect(m.statistical_parity_difference).toBeNull();
    expect(m.warnings.some((w) => w.startsWith('disparate_impact is null: the unprivileged group is empty'))).toBe(true);
    expect(m.warnings.some((w) => w.startsWith('statistical_parity_difference is null'))).toBe(true);
    expect(allFinite(m)).toBe(true);
  });

  test('privileged base rate 0: DI null (division by zero), SPD still defined', () => {
    const m = biasMetrics(counts(group([[false], [false]]), group([[true], [false]])), false);
    expect(m.disparate_impact).toBeNull();
    expect(m.statistical_parity_difference).toBe(0.5);
    expect(m.warnings).toContain('disparate_impact is null: the privileged group has no favorable labels (base rate 0, division by zero)');
  });

  test('unprivileged base rate 0: DI is 0, with a warning', () => {
    const m = biasMetrics(counts(group([[true], [false]]), group([[false], [false]])), false);
    expect(m.disparate_impact).toBe(0);
    expect(m.warnings).toContain('disparate_impact is 0: the unprivileged group has no favorable labels');
  });

  test('label never favorable: DI null, SPD 0, TPRs null, and a warning for each', () => {
    const m = biasMetrics(counts(group([[false, true], [false, false]]), group([[false, false]])), true);
    expect(m.disparate_impact).toBeNull();
    expect(m.statistical_parity_difference).toBe(0);
    expect(m.groups.privileged.tpr).toBeNull();
    expect(m.groups.privileged.fpr).toBe(0.5);
    expect(m.equal_opportunity_difference).toBeNull();
    expect(m.average_odds_difference).toBeNull();
    expect(m.warnings).toEqual(expect.arrayContaining([
      'no row has the favorable label value (check --favorable)',
      'groups.privileged.tpr is null: the privileged group has no rows with a favorable label (TPR = TP/P, P = 0)',
      'equal_opportunity_difference is null: TPR is undefined for a group',
      'average_odds_difference is null: TPR or FPR is undefined for a group',
    ]));
    expect(allFinite(m)).toBe(true);
  });

  test('no unfavorable labels in a group: FPR null, AOD null, EOD defined', () => {
    const m = biasMetrics(counts(group([[true, true], [false, true]]), group([[true, false], [true, true]])), true);
    expect(m.groups.unprivileged.fpr).toBeNull();
    expect(m.equal_opportunity_difference).toBe(-0.5);
    expect(m.average_odds_difference).toBeNull();
    expect(m.warnings).toContain('groups.unprivileged.fpr is null: the unprivileged group has no rows with an unfavorable label (FPR = FP/N, N = 0)');
  });

  test('a protected value named "__proto__" is an ordinary key', () => {
    const c = counts(group([[true]]), group([[false]]));
    c.byValue.set('__proto__', group([[false]]));
    const m = biasMetrics(c, false);
    expect(Object.keys(m.groups.by_value)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(m)).groups.by_value.__proto__.count).toBe(1);
  });
});

describe('Kamiran–Calders reweighing', () => {
  test('weights of the fixture: w(g,y) = n_g·n_y/(n·n_gy)', async () => {
    const c = await countBias(FIXTURE, OPTS);
    const { weights, warnings } = reweighingWeights(c);
    // n = 12, n_fav = n_unfav = 6, n_priv = n_unpriv = 6; cells: priv fav 4, priv unfav 2, unpriv fav 2, unpriv unfav 4
    expect(weights).toEqual({
      privileged: { favorable: (6 * 6) / (12 * 4), unfavorable: (6 * 6) / (12 * 2) },
      unprivileged: { favorable: (6 * 6) / (12 * 2), unfavorable: (6 * 6) / (12 * 4) },
    });
    expect(warnings).toEqual([]);
  });

  test('closed form on random counts: weighted base rates both equal n_fav/n (DI = 1) and Σw = n', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const cell = (): number => 1 + rng.int(1000);
      const [pf, pu, uf, uu] = [cell(), cell(), cell(), cell()];
      const p = { ...emptyCounts(), count: pf + pu, favorable: pf };
      const u = { ...emptyCounts(), count: uf + uu, favorable: uf };
      const { weights: w } = reweighingWeights({ privileged: p, unprivileged: u });
      const n = pf + pu + uf + uu;
      const basePriv = (pf * w.privileged.favorable!) / (pf * w.privileged.favorable! + pu * w.privileged.unfavorable!);
      const baseUnpriv = (uf * w.unprivileged.favorable!) / (uf * w.unprivileged.favorable! + uu * w.unprivileged.unfavorable!);
      expect(basePriv).toBeCloseTo((pf + uf) / n, 12);
      expect(baseUnpriv).toBeCloseTo((pf + uf) / n, 12);
      expect(baseUnpriv / basePriv).toBeCloseTo(1, 12);
      const total = pf * w.privileged.favorable! + pu * w.privileged.unfavorable! + uf * w.unprivileged.favorable! + uu * w.unprivileged.unfavorable!;
      expect(total).toBeCloseTo(n, 8);
    }
  });

  test('an empty cell gives a null weight and a warning that base rates cannot be equalized', () => {
    const { weights, warnings } = reweighingWeights({ privileged: group([[false], [false]]), unprivileged: group([[true], [false]]) });
    expect(weights.privileged.favorable).toBeNull();
    expect(warnings).toEqual(['reweighing cannot equalize base rates: the privileged group has no favorable rows']);
  });

  describe('writeReweighted', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'bias-rw-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test('keeps every row and column, adds weight; the weighted file has DI exactly 1', async () => {
      const c = await countBias(FIXTURE, OPTS);
      const out = join(dir, 'weighted.csv');
      const summary = await writeReweighted(FIXTURE, out, OPTS, reweighingWeights(c).weights);
      expect(summary.rowsOut).toBe(12);
      const input = parse(readFileSync(FIXTURE), { columns: true }) as Record<string, string>[];
      const rows = parse(readFileSync(out), { columns: true }) as Record<string, string>[];
      expect(rows.map(({ weight, ...rest }) => { void weight; return rest; })).toEqual(input);
      const sums = { priv: [0, 0], unpriv: [0, 0] };
      for (const r of rows) {
        const s = r.sex.trim() === 'male' ? sums.priv : sums.unpriv;
        s[1] += Number(r.weight);
        if (r.hired === 'yes') s[0] += Number(r.weight);
      }
      // the weights here are 0.75 and 1.5, exact in binary: the weighted rates are exactly 1/2 each
      expect(sums.priv[0] / sums.priv[1]).toBe(0.5);
      expect(sums.unpriv[0] / sums.unpriv[1]).toBe(0.5);
      expect(sums.unpriv[0] / sums.unpriv[1] / (sums.priv[0] / sums.priv[1])).toBe(1);
    });

    test('an input that already has a weight column is an error and leaves no output', async () => {
      const input = join(dir, 'in.csv');
      writeFileSync(input, 'sex,hired,weight\nmale,yes,1\nfemale,no,1\n');
      const c = await countBias(input, OPTS);
      const out = join(dir, 'out.csv');
      await expect(writeReweighted(input, out, OPTS, reweighingWeights(c).weights)).rejects.toThrow('already has a "weight" column');
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir)).toEqual(['in.csv']);
    });
  });
});
