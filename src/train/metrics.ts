/**
 * metrics.jsonl: one JSON object per line, appended while training runs.
 *
 *   const metrics = await MetricsLog.open(join(out, 'metrics.jsonl'), { resumeStep });  // resumeStep: undefined = new run
 *   metrics.append({ step, loss, lr, grad_norm, tokens_per_s });          // a TrainRow
 *   metrics.append(evalRow(step, valLoss, { mlm_acc }));                 // {step, val_loss, val_ppl, val_mlm_acc}
 *   metrics.close();
 *
 * Each row is written with one write(2) as soon as it is appended, so a killed process keeps every row it logged
 * (a half-written last line is possible only at the very end and is dropped when the file is reopened). Opening
 * with `resumeStep` keeps the rows with step ≤ resumeStep and drops the rest (atomic rewrite), so after the resumed
 * run the file equals an uninterrupted run's apart from TIMING_FIELDS. The trainer must therefore log a step's rows
 * before saving that step's checkpoint. A new run (no resumeStep) starts an empty file.
 */
import { closeSync, openSync, promises as fsp, writeSync } from 'node:fs';
import { atLine } from '../util/errors.js';
import { writeFileDurable } from './checkpoints.js';

export interface TrainRow {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
}

/** A validation row: val_loss, val_ppl (token-level losses only) and val_<metric> for each of the loss's ratios. */
export type EvalRow = { step: number; val_loss: number; val_ppl: number } & Record<string, number>;

export type MetricsRow = { step: number } & Record<string, number | string | boolean | null>;

/** Fields that depend on wall-clock time and so differ between a resumed and an uninterrupted run. */
export const TIMING_FIELDS: readonly string[] = ['tokens_per_s', 'ms_per_step', 'elapsed_s', 'time'];

export function evalRow(step: number, valLoss: number, ratios: Record<string, number>, perplexity = true): EvalRow {
  const row = { step, val_loss: valLoss, ...(perplexity ? { val_ppl: Math.exp(valLoss) } : {}) } as EvalRow;
  for (const [name, v] of Object.entries(ratios)) row[`val_${name}`] = v;
  return row;
}

export class MetricsLog {
  private constructor(
    readonly path: string,
    private fd: number | null,
  ) {}

  static async open(path: string, opts: { resumeStep?: number } = {}): Promise<MetricsLog> {
    if (opts.resumeStep === undefined) {
      await fsp.writeFile(path, '');
    } else {
      const kept = (await parseLines(path)).filter((r) => r.row.step <= opts.resumeStep!);
      await writeFileDurable(path, kept.map((r) => r.line + '\n').join('')); // the original bytes of kept rows
    }
    return new MetricsLog(path, openSync(path, 'a'));
  }

  append(row: MetricsRow | TrainRow | EvalRow): void {
    if (this.fd === null) throw new Error(`${this.path}: metrics log is closed`);
    if (!Number.isInteger(row.step) || row.step < 0) throw new RangeError(`metrics row needs a non-negative integer step, got ${row.step}`);
    writeSync(this.fd, JSON.stringify(row) + '\n'); // non-finite numbers become null
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The rows of a metrics.jsonl ([] if the file does not exist). A final line without its newline is a write cut
 * short by a kill and is ignored; any other line that is not a JSON object with a step is an error.
 */
export async function readMetrics(path: string): Promise<MetricsRow[]> {
  return (await parseLines(path)).map((r) => r.row);
}

async function parseLines(path: string): Promise<{ row: MetricsRow; line: string }[]> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a partial line
  const rows: { row: MetricsRow; line: string }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw atLine(path, i + 1, 'not a JSON line (metrics.jsonl was edited or corrupted)');
    }
    if (typeof row !== 'object' || row === null || typeof (row as MetricsRow).step !== 'number') {
      throw atLine(path, i + 1, 'a metrics row must be a JSON object with a numeric "step"');
    }
    rows.push({ row: row as MetricsRow, line });
  });
  return rows;
}
