/**
 * The report on a hand-made vote set, cast through a real store (so the order mapping is part of what is
 * checked): win rates by counting, Bradley–Terry against the two-system closed form (π_x/π_y = wins/losses, ties
 * half), "both bad" left out of BT and counted, detection accuracy with Wilson's interval, a seeded bootstrap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTuringReport, turingReport } from '../../../src/turing/report.js';
import { TuringStore, type Choice } from '../../../src/turing/store.js';
import { wilsonCi95 } from '../../../src/turing/wilson.js';

let dir: string;
let store: TuringStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'turing-report-'));
  store = TuringStore.open(join(dir, 't.sqlite'), { create: true, seed: 3 });
  store.addItems([
    { prompt: 'p1', system_a: 'human', answer_a: 'H1', system_b: 'model', answer_b: 'M1' },
    { prompt: 'p2', system_a: 'model', answer_a: 'M2', system_b: 'human', answer_b: 'H2' },
  ]);
  /** Casts a vote by meaning: which system won, and which system the judge thought was the person. */
  const cast = (winner: 'human' | 'model' | 'tie' | 'bad', guess: 'human' | 'model' | null) => {
    const p = store.next()!;
    const shownAs = (system: 'human' | 'model'): 'A' | 'B' => (p.answers.A.startsWith(system === 'human' ? 'H' : 'M') ? 'A' : 'B');
    const choice: Choice = winner === 'tie' || winner === 'bad' ? winner : shownAs(winner);
    expect(store.vote(p.item_id, choice, guess === null ? null : shownAs(guess))).toEqual({ ok: true });
  };
  // human 6 wins, model 3 wins, 2 ties, 1 both bad; 10 guesses, 7 of them right
  for (let i = 0; i < 6; i++) cast('human', i < 5 ? 'human' : 'model');
  for (let i = 0; i < 3; i++) cast('model', i < 1 ? 'human' : 'model');
  cast('tie', 'human');
  cast('tie', null);
  cast('bad', 'human');
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const report = (o: { prior: number; seed?: number }) => turingReport('t.sqlite', store.counts(), store.systems(), store.votes(), { seed: o.seed ?? 42, resamples: 500, prior: o.prior });

describe('turingReport', () => {
  test('counts, win rates and the closed-form Bradley–Terry gap (prior 0)', () => {
    const r = report({ prior: 0 });
    expect(r).toMatchObject({ items: 2, votes: 12, bad_votes: 1 });
    const [human, model] = r.systems;
    expect(human).toMatchObject({ system: 'human', votes: 12, wins: 6, losses: 3, ties: 2, bad: 1 });
    expect(model).toMatchObject({ system: 'model', votes: 12, wins: 3, losses: 6, ties: 2, bad: 1 });
    expect(human.win_rate).toBeCloseTo((6 + 1) / 11, 12);
    expect(model.win_rate).toBeCloseTo((3 + 1) / 11, 12);
    // π_h/π_m = (6 + 2/2) / (3 + 2/2); the scale is 400·log10; centred on 1000
    expect(human.bt_score! - model.bt_score!).toBeCloseTo(400 * Math.log10(7 / 4), 6);
    expect((human.bt_score! + model.bt_score!) / 2).toBeCloseTo(1000, 6);
  });

  test('detection: right when the guess names the human answer; "both bad" votes still count their guess', () => {
    const r = report({ prior: 1 });
    // guesses: 6 + 3 + 1 + 0 + 1 = 11; right: 5 + 1 + 1 + 1 = 8
    expect(r.detection).toEqual({ guesses: 11, correct: 8, accuracy: 8 / 11, accuracy_ci95: wilsonCi95(8, 11) });
    expect(r.systems.find((s) => s.system === 'model')!.detection).toEqual(r.detection);
    expect(r.systems.find((s) => s.system === 'human')!.detection).toBeUndefined();
  });

  test('the prior pulls the gap towards 0; intervals are seeded and contain the estimate', () => {
    const plain = report({ prior: 0 });
    const r = report({ prior: 1 });
    const gap = (x: typeof r) => x.systems[0].bt_score! - x.systems[1].bt_score!;
    expect(gap(r)).toBeGreaterThan(0);
    expect(gap(r)).toBeLessThan(gap(plain));
    expect(report({ prior: 1 }).systems).toEqual(r.systems);
    expect(report({ prior: 1, seed: 9 }).systems[0].bt_ci95).not.toEqual(r.systems[0].bt_ci95);
    for (const s of r.systems) {
      expect(s.bt_ci95![0]).toBeLessThanOrEqual(s.bt_score!);
      expect(s.bt_ci95![1]).toBeGreaterThanOrEqual(s.bt_score!);
    }
    expect(r.bradley_terry).toEqual({ scale: 'elo', ties: 'half a win each', prior_ties: 1, resamples: 500, seed: 42 });
  });

  test('the readable report', () => {
    const text = formatTuringReport(report({ prior: 1 }));
    expect(text).toMatch(/^t\.sqlite: 2 items, 12 votes \(1 "both bad"\)/);
    expect(text).toMatch(/human +12 +6-3-2 +1 +63\.6%/);
    expect(text).toMatch(/model +12 +3-6-2 +1 +36\.4%.*72\.7% of 11/);
    expect(text).toContain('judges spotted the model in 8 of 11 guesses: 72.7%');
  });
});
