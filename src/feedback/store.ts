/**
 * The feedback log: what users said about the served model's answers, appended to SQLite (`serve --feedback-db`,
 * POST /v1/feedback) and read back by `compactlm feedback export` as training rows.
 *
 *   const store = FeedbackStore.open('feedback.sqlite', { create: true });
 *   store.add({ task: 'classify', inputs: 'great phone', output: { label: '1', score: 0.93 }, label: null, rating: 5 });
 *
 * A record: the task, the inputs and the model's output as the client sent them (any JSON, stored as JSON text),
 * and what the user added: `label` (the right answer, a correction) and/or `rating` (RATING_MIN wrong …
 * RATING_MAX right). Rows loaded from a CSV (`feedback import`) carry an `origin` (a hash of the row), so
 * importing the same file again adds nothing. Same SQLite settings as the Turing store (src/turing/sqlite.ts).
 */
import { createHash } from 'node:crypto';
import { openSqlite, type Db, type SqliteKind } from '../turing/sqlite.js';

export const RATING_MIN = 1;
export const RATING_MAX = 5;

export interface FeedbackRecord {
  task: string;
  inputs: unknown;
  output: unknown;
  label?: string | null;
  rating?: number | null;
}

export interface StoredFeedback {
  id: number;
  task: string;
  inputs: unknown;
  output: unknown;
  label: string | null;
  rating: number | null;
  created_at: string;
}

const SCHEMA = `
CREATE TABLE feedback (
  id INTEGER PRIMARY KEY,
  task TEXT NOT NULL,
  inputs TEXT NOT NULL,   -- JSON
  output TEXT NOT NULL,   -- JSON (null when a row was imported with a label only)
  label TEXT,
  rating REAL CHECK (rating IS NULL OR (rating >= ${RATING_MIN} AND rating <= ${RATING_MAX})),
  origin TEXT UNIQUE,     -- imported rows: a hash of the row; NULL for what clients sent
  created_at TEXT NOT NULL
);
CREATE INDEX feedback_task ON feedback (task, id);
`;

export const FEEDBACK_DB: SqliteKind = { what: 'feedback database', applicationId: 0x434c4d46 /* "CLMF" */, version: 1, schema: SCHEMA };

export class FeedbackStore {
  private constructor(readonly path: string, readonly db: Db, private readonly now: () => number) {}

  static open(path: string, o: { create?: boolean; now?: () => number } = {}): FeedbackStore {
    return new FeedbackStore(path, openSqlite(path, FEEDBACK_DB, { create: !!o.create }), o.now ?? Date.now);
  }

  close(): void {
    this.db.close();
  }

  /** Appends one record (one transaction); returns its id. */
  add(r: FeedbackRecord): number {
    return this.addMany([r])[0]!; // without an origin every record is inserted
  }

  /**
   * Appends records in one transaction (all or none). With `origin`, a record equal to one imported before (same
   * task, inputs, output, label and rating) is skipped: its id is null.
   */
  addMany(records: readonly FeedbackRecord[], o: { origin?: boolean } = {}): (number | null)[] {
    // ON CONFLICT (the origin) only: a record that breaks a CHECK fails the transaction instead of vanishing.
    const insert = this.db.prepare(`INSERT INTO feedback (task, inputs, output, label, rating, origin, created_at)
      VALUES (@task, @inputs, @output, @label, @rating, @origin, @created_at) ON CONFLICT DO NOTHING`);
    const created_at = new Date(this.now()).toISOString();
    return this.db.transaction(() => records.map((r) => {
      const row = {
        task: r.task,
        inputs: JSON.stringify(r.inputs),
        output: JSON.stringify(r.output ?? null),
        label: r.label ?? null,
        rating: r.rating ?? null,
      };
      const origin = o.origin ? createHash('sha256').update(JSON.stringify(row)).digest('hex') : null;
      const info = insert.run({ ...row, origin, created_at });
      return info.changes === 1 ? Number(info.lastInsertRowid) : null;
    })).immediate();
  }

  /** The records of `task`, oldest first. */
  list(task: string): StoredFeedback[] {
    const rows = this.db.prepare('SELECT id, task, inputs, output, label, rating, created_at FROM feedback WHERE task = ? ORDER BY id').all(task) as
      (Omit<StoredFeedback, 'inputs' | 'output'> & { inputs: string; output: string })[];
    return rows.map((r) => ({ ...r, inputs: JSON.parse(r.inputs) as unknown, output: JSON.parse(r.output) as unknown }));
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM feedback').get() as { n: number }).n;
  }
}
