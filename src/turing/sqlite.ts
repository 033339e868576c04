/**
 * Opening the project's SQLite files (the Turing-test votes, the feedback log) the same way everywhere:
 *
 * - WAL journal: readers never block the writer, and a process killed mid-write (kill -9) loses nothing it
 *   committed; `synchronous = FULL` also makes every commit survive a power cut (one fsync per commit).
 * - busy_timeout: a second process writing the same file (an import while `serve` runs) waits for the lock
 *   instead of failing with SQLITE_BUSY.
 * - foreign keys on (SQLite's default is off).
 * - `application_id` says what the file is, so `--db feedback.sqlite` given to `turing report` is one clear line,
 *   not a "no such table"; `user_version` is the schema version, for a later migration.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UserError } from '../util/errors.js';

export type Db = Database.Database;

/** How long a write waits for another process's lock before failing, in ms. */
export const BUSY_TIMEOUT_MS = 5000;

export interface SqliteKind {
  /** What the file holds, for messages: 'Turing-test database'. */
  what: string;
  /** PRAGMA application_id of this kind of file (a 32-bit integer). */
  applicationId: number;
  /** Schema version (PRAGMA user_version) the statements in `schema` create. */
  version: number;
  /** CREATE … IF NOT EXISTS statements. */
  schema: string;
}

/**
 * Opens (`create`: creates if missing) a database of `kind`. Refuses a file that is not SQLite, or an SQLite file
 * of another kind or schema version, with one line naming it.
 */
export function openSqlite(path: string, kind: SqliteKind, o: { create: boolean }): Db {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st && !o.create) throw new UserError(`${path}: ${kind.what} not found`);
  if (st?.isDirectory()) throw new UserError(`${path}: is a folder, not a ${kind.what}`);
  const fresh = !st || st.size === 0;
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: !o.create });
  } catch (e) {
    throw new UserError(`${path}: cannot open the ${kind.what} (${(e as Error).message})`);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // The first read of the header fails here when the file is not SQLite at all.
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (!fresh && (appId !== kind.applicationId || tables === 0)) {
      const other = tables === 0 ? 'an empty SQLite file' : appId === 0 ? 'an SQLite database CompactLM did not write' : 'another kind of CompactLM database';
      throw new UserError(`${path}: not a ${kind.what} (it is ${other})`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (!fresh && version !== kind.version) {
      throw new UserError(`${path}: ${kind.what} schema version ${version}, this CompactLM reads version ${kind.version}`);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (fresh) {
      db.transaction(() => {
        db.exec(kind.schema);
        db.pragma(`application_id = ${kind.applicationId}`);
        db.pragma(`user_version = ${kind.version}`);
      }).immediate();
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof UserError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_NOTADB') throw new UserError(`${path}: not an SQLite database (and so not a ${kind.what})`);
    throw new UserError(`${path}: ${(e as Error).message}${code ? ` (${code})` : ''}`);
  }
}
