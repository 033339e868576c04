/**
 * Labeled CSV for fine-tuning and evaluating a classifier: the text (and optional pair) column, the label column,
 * an optional per-row weight column and an optional group column (a protected attribute, for `eval --protected`), read through the project's streaming CSV reader and validated row by row, so a bad file
 * fails with one line naming the file, the line and the column before any training starts.
 *
 * Labels are strings. The surrounding whitespace of a label cell is trimmed (`pos, neg` hand-written CSVs would
 * otherwise get a label " neg"); nothing else is normalized: "1" and "1.0" are two labels, and so are "Pos" and
 * "pos". Texts are kept exactly as given; an empty (or whitespace-only) text is an error, not an empty example.
 */
import { readCsv } from '../data/csv.js';
import { atLine, UserError } from '../util/errors.js';

export interface LabeledColumns {
  textColumn: string;
  pairColumn?: string;
  labelColumn: string;
  weightColumn?: string;
  /** A protected-attribute column (values trimmed), for group metrics. */
  groupColumn?: string;
}

export interface LabeledRows {
  file: string;
  texts: string[];
  pairs?: string[];
  labels: string[];
  weights?: number[];
  groups?: string[];
  /** 1-based file line of each row, for messages */
  lines: number[];
}

// A plain decimal number (digits, optional fraction and exponent): Number() alone would also take "0x1f", "" and " ".
const DECIMAL = /^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export async function readLabeledCsv(file: string, cols: LabeledColumns): Promise<LabeledRows> {
  const roles: [string, string | undefined][] = [
    ['text', cols.textColumn],
    ['pair', cols.pairColumn],
    ['label', cols.labelColumn],
    ['weight', cols.weightColumn],
    ['group', cols.groupColumn],
  ];
  const used = roles.filter((r): r is [string, string] => r[1] !== undefined);
  for (const [i, [role, column]] of used.entries()) {
    const other = used.slice(0, i).find((u) => u[1] === column);
    if (other) throw new UserError(`${file}: the ${other[0]} and ${role} columns are both "${column}"`);
  }
  const reader = await readCsv(file, { requireColumns: used.map((u) => u[1]) });
  const out: LabeledRows = {
    file,
    texts: [],
    ...(cols.pairColumn !== undefined ? { pairs: [] } : {}),
    labels: [],
    ...(cols.weightColumn !== undefined ? { weights: [] } : {}),
    ...(cols.groupColumn !== undefined ? { groups: [] } : {}),
    lines: [],
  };
  const textOf = (record: Record<string, string>, line: number, column: string) => {
    const text = record[column];
    if (text.trim() === '') throw atLine(file, line, `empty text in column "${column}"`);
    return text;
  };
  for await (const { record, line } of reader.rows) {
    out.texts.push(textOf(record, line, cols.textColumn));
    if (cols.pairColumn !== undefined) out.pairs!.push(textOf(record, line, cols.pairColumn));
    const label = record[cols.labelColumn].trim();
    if (label === '') throw atLine(file, line, `empty label in column "${cols.labelColumn}"`);
    out.labels.push(label);
    if (cols.weightColumn !== undefined) out.weights!.push(parseWeight(file, line, cols.weightColumn, record[cols.weightColumn]));
    if (cols.groupColumn !== undefined) out.groups!.push(record[cols.groupColumn].trim());
    out.lines.push(line);
  }
  if (out.weights && out.weights.every((w) => w === 0)) {
    throw new UserError(`${file}: every weight in column "${cols.weightColumn}" is 0 (nothing to learn from)`);
  }
  return out;
}

function parseWeight(file: string, line: number, column: string, cell: string): number {
  const s = cell.trim();
  const w = DECIMAL.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(w)) throw atLine(file, line, `weight ${JSON.stringify(cell)} in column "${column}" is not a finite number ≥ 0`);
  return w;
}

/**
 * The label set of the training rows: distinct strings, sorted in JavaScript's default order (UTF-16 code units:
 * "10" before "2", "B" before "a"), so label ids do not depend on row order. Ids index this list.
 */
export function labelSet(rows: LabeledRows): string[] {
  return [...new Set(rows.labels)].sort();
}

/**
 * Label ids of `rows` against `labels` (the training label set, or a model's: `what` names them); a label not in it is
 * an error naming the row.
 */
export function labelIds(rows: LabeledRows, labels: readonly string[], what = 'training labels'): number[] {
  const id = new Map(labels.map((l, i) => [l, i]));
  const shown = labels.length <= 10 ? labels.join(', ') : `${labels.slice(0, 10).join(', ')}, …`;
  return rows.labels.map((label, i) => {
    const k = id.get(label);
    if (k === undefined) throw atLine(rows.file, rows.lines[i], `label "${label}" is not one of the ${labels.length} ${what} (${shown})`);
    return k;
  });
}

/**
 * Classification needs two classes in the training rows: with one, the model learns a constant and every metric
 * is meaningless, so it is refused up front.
 */
export function checkTrainable(labels: string[], file: string, labelColumn = 'label'): void {
  const classes = [...new Set(labels)];
  if (classes.length < 2) {
    const found = classes.length === 0 ? 'no labels' : `one class (${JSON.stringify(classes[0])})`;
    throw new UserError(`${file}: the label column "${labelColumn}" has ${found}; classification needs at least two`);
  }
}

/**
 * Per-class weights n / (C · n_c), indexed by label id: scikit-learn's compute_class_weight('balanced'), with
 * n examples, C = numLabels classes and n_c examples of class c. Every class then carries the same total weight
 * n / C. A class without examples (possible after a hold-out split) gets 0; scikit-learn refuses that case.
 */
export function balancedClassWeights(ids: readonly number[], numLabels: number): number[] {
  const counts = new Array<number>(numLabels).fill(0);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= numLabels) throw new Error(`label id ${id} outside 0..${numLabels - 1}`);
    counts[id]++;
  }
  return counts.map((n) => (n === 0 ? 0 : ids.length / (numLabels * n)));
}
