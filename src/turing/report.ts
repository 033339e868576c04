/**
 * The Turing-test report (`compactlm turing report`): per system its votes, win rate and Bradley–Terry score with
 * a bootstrap 95% interval, and how well the judges spotted the model on items that pair `human` with a model.
 *
 * - win_rate = (wins + ties/2) / (wins + losses + ties); "both bad" votes are counted (`bad`) but are neither.
 * - bt_score: bradley-terry.ts (Elo-like scale, ties half a win, bad votes left out, `prior` virtual ties).
 * - detection: on human-vs-model items, the votes that answered "which one was written by a person?"; correct
 *   when they picked the human's answer (which is the same as spotting the model). 50% means the judges could
 *   not tell the model from a person; the interval is Wilson's (wilson.ts).
 */
import { bradleyTerryScores, type Comparison } from './bradley-terry.js';
import { HUMAN, type ResolvedVote } from './store.js';
import { wilsonCi95 } from './wilson.js';

export interface Detection {
  /** Votes on human-vs-model items that named a human answer. */
  guesses: number;
  correct: number;
  accuracy: number | null;
  accuracy_ci95: [number, number] | null;
}

export interface SystemRow {
  system: string;
  /** Votes on items this system is part of (both bad included). */
  votes: number;
  wins: number;
  losses: number;
  ties: number;
  bad: number;
  win_rate: number | null;
  bt_score: number | null;
  bt_ci95: [number, number] | null;
  /** For a model paired with `human`: how often the judges told which answer was the person's. */
  detection?: Detection;
}

export interface TuringReport {
  db: string;
  items: number;
  votes: number;
  bad_votes: number;
  systems: SystemRow[];
  /** Every human-vs-model guess together. */
  detection: Detection;
  bradley_terry: { scale: 'elo'; ties: 'half a win each'; prior_ties: number; resamples: number; seed: number };
}

export interface ReportOptions {
  seed: number;
  resamples: number;
  /** Virtual ties against a reference of strength 1 (bradley-terry.ts); 0: the plain MLE. */
  prior: number;
}

function detection(guesses: number, correct: number): Detection {
  return {
    guesses,
    correct,
    accuracy: guesses > 0 ? correct / guesses : null,
    accuracy_ci95: guesses > 0 ? wilsonCi95(correct, guesses) : null,
  };
}

export function turingReport(db: string, counts: { items: number }, systems: readonly string[], votes: readonly ResolvedVote[], o: ReportOptions): TuringReport {
  const rows = new Map<string, SystemRow>(systems.map((system) => [system, {
    system, votes: 0, wins: 0, losses: 0, ties: 0, bad: 0, win_rate: null, bt_score: null, bt_ci95: null,
  }]));
  const guessed = new Map<string, { guesses: number; correct: number }>();
  const comparisons: Comparison[] = [];
  for (const v of votes) {
    const a = rows.get(v.system_a)!;
    const b = rows.get(v.system_b)!;
    a.votes++;
    b.votes++;
    if (v.winner === 'bad') {
      a.bad++;
      b.bad++;
    } else {
      comparisons.push({ a: v.system_a, b: v.system_b, outcome: v.winner });
      if (v.winner === 'tie') {
        a.ties++;
        b.ties++;
      } else {
        const [w, l] = v.winner === 'a' ? [a, b] : [b, a];
        w.wins++;
        l.losses++;
      }
    }
    const humanSide = v.system_a === HUMAN ? 'a' : v.system_b === HUMAN ? 'b' : null;
    if (humanSide && v.guess !== null) {
      const model = humanSide === 'a' ? v.system_b : v.system_a;
      const g = guessed.get(model) ?? { guesses: 0, correct: 0 };
      g.guesses++;
      if (v.guess === humanSide) g.correct++;
      guessed.set(model, g);
    }
  }
  const bt = bradleyTerryScores(systems, comparisons, o);
  for (const [i, system] of systems.entries()) {
    const r = rows.get(system)!;
    const decided = r.wins + r.losses + r.ties;
    r.win_rate = decided > 0 ? (r.wins + r.ties / 2) / decided : null;
    // A system without a decided vote has only the prior's score: none to report.
    r.bt_score = decided > 0 ? bt.scores[i] : null;
    r.bt_ci95 = decided > 0 ? bt.ci95[i] : null;
    const g = guessed.get(system);
    if (g) r.detection = detection(g.guesses, g.correct);
  }
  const all = [...guessed.values()].reduce((s, g) => ({ guesses: s.guesses + g.guesses, correct: s.correct + g.correct }), { guesses: 0, correct: 0 });
  const sorted = [...rows.values()].sort((x, y) => (y.bt_score ?? -Infinity) - (x.bt_score ?? -Infinity) || (x.system < y.system ? -1 : 1));
  return {
    db,
    items: counts.items,
    votes: votes.length,
    bad_votes: votes.filter((v) => v.winner === 'bad').length,
    systems: sorted,
    detection: detection(all.guesses, all.correct),
    bradley_terry: { scale: 'elo', ties: 'half a win each', prior_ties: o.prior, resamples: o.resamples, seed: o.seed },
  };
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const ci = (c: [number, number] | null, f: (x: number) => string) => (c === null ? 'n/a' : `${f(c[0])}–${f(c[1])}`);

/** The readable report printed without --json. */
export function formatTuringReport(r: TuringReport): string {
  const lines = [`${r.db}: ${r.items} items, ${r.votes} votes (${r.bad_votes} "both bad"); Bradley–Terry on an Elo-like scale ` +
    `(ties half a win, ${r.bradley_terry.prior_ties} prior ties, ${r.bradley_terry.resamples} bootstrap resamples, seed ${r.bradley_terry.seed})`];
  const table = [['system', 'votes', 'W-L-T', 'bad', 'win rate', 'BT score', '95% CI', 'spotted']];
  for (const s of r.systems) {
    table.push([s.system, String(s.votes), `${s.wins}-${s.losses}-${s.ties}`, String(s.bad), pct(s.win_rate),
      s.bt_score === null ? 'n/a' : s.bt_score.toFixed(0), ci(s.bt_ci95, (x) => x.toFixed(0)),
      s.detection ? `${pct(s.detection.accuracy)} of ${s.detection.guesses}` : '']);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) lines.push(`  ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`.trimEnd());
  const d = r.detection;
  lines.push(d.guesses === 0
    ? '  judges\' guesses: none yet on items that pair human with a model'
    : `  judges spotted the model in ${d.correct} of ${d.guesses} guesses: ${pct(d.accuracy)} (95% CI ${ci(d.accuracy_ci95, pct)}; 50% = indistinguishable from a person)`);
  if (r.bradley_terry.prior_ties === 0 && r.systems.some((s) => s.bt_score === null) && r.votes > 0) {
    lines.push('  BT score n/a: with --prior 0 the plain maximum-likelihood scores need every system to have won and lost (use --prior > 0)');
  }
  return `${lines.join('\n')}\n`;
}
