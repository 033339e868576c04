/**
 * The Turing-test store: items (a prompt and two systems' answers) and the votes of blind judges, in SQLite.
 *
 *   const store = TuringStore.open('turing.sqlite', { create: true });
 *   store.addItems([{ prompt, system_a: 'human', answer_a, system_b: 'centroid', answer_b }]);
 *   const shown = store.next('judge-7');           // {item_id, prompt, answers: {A, B}} or null
 *   store.vote(shown.item_id, 'A', 'B');           // {ok: true} or {ok: false, code, message}
 *
 * Blindness: every call of next() makes a *presentation*, a row keyed by a random token, holding which side of
 * the item is shown as A (a fair coin). The client gets only the token (as `item_id`), the prompt and the two
 * texts; the vote names the token, and the store maps A/B back to the systems. A token is good for one vote and
 * for PRESENTATION_TTL_MS. A judge who asks again before voting gets the same presentation (same order), so
 * reloading the page does not reshuffle it.
 *
 * Which item: the one with the fewest votes plus presentations still open (so concurrent judges spread over the
 * items), random among ties, skipping items this judge already voted on. The coin and the tie-break come from a
 * seeded Rng (src/util/rng.ts) when `seed` is given (tests, reproducible demos); otherwise from a seed drawn from
 * the OS, because a known seed would let a judge predict the order.
 *
 * Every write is one transaction (BEGIN IMMEDIATE), so concurrent requests and processes never lose a vote.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Rng } from '../util/rng.js';
import { openSqlite, type Db, type SqliteKind } from './sqlite.js';

export const CHOICES = ['A', 'B', 'tie', 'bad'] as const;
export type Choice = (typeof CHOICES)[number];
export type Shown = 'A' | 'B';
/** A side of a stored item: its system_a/answer_a ('a') or system_b/answer_b ('b'). */
export type Side = 'a' | 'b';

/** The name that marks a human-written reference answer. */
export const HUMAN = 'human';

/** How long a presentation can be voted on, in ms. */
export const PRESENTATION_TTL_MS = 2 * 60 * 60 * 1000;
/** Every this many calls of next(), presentations that expired without a vote are deleted (they would only pile up). */
const PRUNE_EVERY = 100;

export interface TuringItem {
  prompt: string;
  system_a: string;
  answer_a: string;
  system_b: string;
  answer_b: string;
}

/** What a judge sees: no system names, and nothing that depends on the order. */
export interface Presentation {
  item_id: string;
  prompt: string;
  answers: { A: string; B: string };
}

export type VoteResult =
  | { ok: true }
  | { ok: false; code: 'unknown_item' | 'already_voted' | 'expired'; message: string };

/** One vote with the systems resolved (the report's input). */
export interface ResolvedVote {
  item: number;
  system_a: string;
  system_b: string;
  /** The item side that won, 'tie', or 'bad' (both answers bad). */
  winner: Side | 'tie' | 'bad';
  /** The item side the judge thought a person wrote, or null. */
  guess: Side | null;
  judge: string | null;
  created_at: string;
}

const SCHEMA = `
CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  prompt TEXT NOT NULL,
  system_a TEXT NOT NULL,
  answer_a TEXT NOT NULL,
  system_b TEXT NOT NULL,
  answer_b TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  CHECK (system_a <> system_b),
  UNIQUE (prompt, system_a, answer_a, system_b, answer_b)
);
-- One row per time an item was shown: which of its sides was shown as A. The token is the item_id clients see.
CREATE TABLE presentations (
  token TEXT PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id),
  shown_a TEXT NOT NULL CHECK (shown_a IN ('a', 'b')),
  judge TEXT,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  voted INTEGER NOT NULL DEFAULT 0 CHECK (voted IN (0, 1))
);
CREATE INDEX presentations_open ON presentations (item_id, voted, expires_ms);
CREATE INDEX presentations_judge ON presentations (judge, voted, expires_ms);
-- The vote as cast (choice and human_guess in the presented order) and that order (shown_a).
CREATE TABLE votes (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id),
  presentation TEXT NOT NULL UNIQUE REFERENCES presentations(token),
  choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'tie', 'bad')),
  human_guess TEXT CHECK (human_guess IN ('A', 'B')),
  shown_a TEXT NOT NULL CHECK (shown_a IN ('a', 'b')),
  judge TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX votes_item ON votes (item_id);
CREATE INDEX votes_judge ON votes (judge, item_id);
-- Votes in terms of the item's sides and systems (what the report reads; handy in the sqlite3 shell too).
CREATE VIEW vote_systems AS
SELECT v.id, v.item_id AS item, i.system_a, i.system_b,
  CASE WHEN v.choice IN ('tie', 'bad') THEN v.choice
       WHEN (v.choice = 'A') = (v.shown_a = 'a') THEN 'a' ELSE 'b' END AS winner,
  CASE WHEN v.human_guess IS NULL THEN NULL
       WHEN (v.human_guess = 'A') = (v.shown_a = 'a') THEN 'a' ELSE 'b' END AS guess,
  v.judge, v.created_at
FROM votes v JOIN items i ON i.id = v.item_id;
`;

export const TURING_DB: SqliteKind = { what: 'Turing-test database', applicationId: 0x434c4d54 /* "CLMT" */, version: 1, schema: SCHEMA };

export interface TuringStoreOptions {
  /** Create the file when it does not exist (import, serve); the report only reads an existing one. */
  create?: boolean;
  /** Seed of the order coin and the tie-break (default: drawn from the OS). */
  seed?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export class TuringStore {
  private readonly rng: Rng;
  private readonly now: () => number;
  private calls = 0;

  private constructor(readonly path: string, readonly db: Db, o: TuringStoreOptions) {
    this.rng = new Rng(o.seed ?? randomInt(0, 2 ** 32));
    this.now = o.now ?? Date.now;
  }

  static open(path: string, o: TuringStoreOptions = {}): TuringStore {
    return new TuringStore(path, openSqlite(path, TURING_DB, { create: !!o.create }), o);
  }

  close(): void {
    this.db.close();
  }

  /** Adds items in one transaction (all or none); an item already stored (same five fields) is not added twice. */
  addItems(items: readonly TuringItem[]): { added: number; existing: number } {
    // ON CONFLICT, not INSERT OR IGNORE: the latter would also drop an item that breaks a CHECK, silently.
    const insert = this.db.prepare(`INSERT INTO items (prompt, system_a, answer_a, system_b, answer_b, imported_at)
      VALUES (@prompt, @system_a, @answer_a, @system_b, @answer_b, @at) ON CONFLICT DO NOTHING`);
    const at = new Date(this.now()).toISOString();
    return this.db.transaction(() => {
      let added = 0;
      for (const it of items) added += insert.run({ ...pick(it), at }).changes;
      return { added, existing: items.length - added };
    }).immediate();
  }

  /** The next presentation for `judge` (a client-chosen id, or undefined), or null when no item is left for them. */
  next(judge?: string): Presentation | null {
    return this.db.transaction(() => {
      const now = this.now();
      if (++this.calls % PRUNE_EVERY === 0) this.pruneExpired();
      if (judge !== undefined) {
        const open = this.db.prepare(`SELECT p.token, p.shown_a, i.prompt, i.answer_a, i.answer_b FROM presentations p
          JOIN items i ON i.id = p.item_id WHERE p.judge = ? AND p.voted = 0 AND p.expires_ms > ? ORDER BY p.created_ms LIMIT 1`)
          .get(judge, now) as (Row & { token: string; shown_a: Side }) | undefined;
        if (open) return present(open.token, open, open.shown_a);
      }
      // Load of an item: votes cast plus presentations still open.
      const candidates = this.db.prepare(`SELECT i.id,
          (SELECT count(*) FROM votes v WHERE v.item_id = i.id)
          + (SELECT count(*) FROM presentations p WHERE p.item_id = i.id AND p.voted = 0 AND p.expires_ms > @now) AS load
        FROM items i
        WHERE @judge IS NULL OR NOT EXISTS (SELECT 1 FROM votes v WHERE v.item_id = i.id AND v.judge = @judge)
        ORDER BY load, i.id`).all({ now, judge: judge ?? null }) as { id: number; load: number }[];
      if (candidates.length === 0) return null;
      const least = candidates.filter((c) => c.load === candidates[0].load);
      const id = least[this.rng.int(least.length)].id;
      const shownA: Side = this.rng.int(2) === 0 ? 'a' : 'b';
      const token = randomBytes(12).toString('base64url');
      this.db.prepare(`INSERT INTO presentations (token, item_id, shown_a, judge, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(token, id, shownA, judge ?? null, now, now + PRESENTATION_TTL_MS);
      const row = this.db.prepare('SELECT prompt, answer_a, answer_b FROM items WHERE id = ?').get(id) as Row;
      return present(token, row, shownA);
    }).immediate();
  }

  /** Records a vote on presentation `token`: one transaction, one vote per presentation. */
  vote(token: string, choice: Choice, humanGuess: Shown | null): VoteResult {
    return this.db.transaction((): VoteResult => {
      const now = this.now();
      const p = this.db.prepare('SELECT item_id, shown_a, judge, expires_ms, voted FROM presentations WHERE token = ?').get(token) as
        { item_id: number; shown_a: Side; judge: string | null; expires_ms: number; voted: number } | undefined;
      if (!p) return { ok: false, code: 'unknown_item', message: `no item_id "${token}": get one from GET /v1/turing/next` };
      if (p.voted) return { ok: false, code: 'already_voted', message: `item_id "${token}" already has a vote` };
      if (p.expires_ms <= now) return { ok: false, code: 'expired', message: `item_id "${token}" expired: get a new one from GET /v1/turing/next` };
      this.db.prepare(`INSERT INTO votes (item_id, presentation, choice, human_guess, shown_a, judge, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(p.item_id, token, choice, humanGuess, p.shown_a, p.judge, new Date(now).toISOString());
      this.db.prepare('UPDATE presentations SET voted = 1 WHERE token = ?').run(token);
      return { ok: true };
    }).immediate();
  }

  /** Removes presentations that expired without a vote (they only count towards an item's load while open). */
  pruneExpired(): number {
    return this.db.prepare('DELETE FROM presentations WHERE voted = 0 AND expires_ms <= ?').run(this.now()).changes;
  }

  /** Every vote with its systems, in the order cast. */
  votes(): ResolvedVote[] {
    return this.db.prepare('SELECT item, system_a, system_b, winner, guess, judge, created_at FROM vote_systems ORDER BY id').all() as ResolvedVote[];
  }

  counts(): { items: number; votes: number } {
    const n = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return { items: n('SELECT count(*) AS n FROM items'), votes: n('SELECT count(*) AS n FROM votes') };
  }

  /** Every system named in the items, sorted. */
  systems(): string[] {
    return (this.db.prepare('SELECT system_a AS s FROM items UNION SELECT system_b FROM items ORDER BY s').all() as { s: string }[]).map((r) => r.s);
  }
}

interface Row {
  prompt: string;
  answer_a: string;
  answer_b: string;
}

function present(token: string, row: Row, shownA: Side): Presentation {
  const [A, B] = shownA === 'a' ? [row.answer_a, row.answer_b] : [row.answer_b, row.answer_a];
  return { item_id: token, prompt: row.prompt, answers: { A, B } };
}

function pick(it: TuringItem): TuringItem {
  return { prompt: it.prompt, system_a: it.system_a, answer_a: it.answer_a, system_b: it.system_b, answer_b: it.answer_b };
}
