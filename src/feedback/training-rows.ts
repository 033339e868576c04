/**
 * Which feedback becomes a training row for a classifier (`compactlm feedback export --task classify`):
 *
 * 1. a record with a `label` (the user gave the right answer): (text, label);
 * 2. else one rated ≥ minRating (the user said the output was right): (text, the output's label);
 * 3. else it is skipped (no label, and no rating, or a low one: a wrong output says what the label is not).
 *
 * The text is the record's `inputs` when that is one text: a string, {"text": "…"} or ["…"]. The output's label
 * is taken from what a classifier answers: "label", {"label": …}, or a list of those, best first (the first).
 * One row per text: the latest feedback on a text replaces earlier feedback on it (a later correction wins).
 * Optional filters: `labels` (rows whose label is not one of these are skipped, e.g. the training split's label
 * set, so one typo does not add a class) and `exclude` (texts that must not be trained on: the test set).
 */
import type { StoredFeedback } from './store.js';

export interface TrainingRow {
  text: string;
  label: string;
}

export interface TrainingRowCounts {
  records: number;
  labelled: number;
  rated: number;
  /** Skipped: no label and no rating ≥ minRating (or no label in the output). */
  unlabelled: number;
  /** Skipped: inputs that are not one text. */
  not_text: number;
  /** Skipped: a label outside `labels`. */
  unknown_label: number;
  /** Skipped: the text is in `exclude`. */
  excluded: number;
  /** Replaced by later feedback on the same text. */
  superseded: number;
}

export interface TrainingRowOptions {
  minRating: number;
  labels?: ReadonlySet<string>;
  exclude?: ReadonlySet<string>;
}

/** The one text of a record's inputs, or null. */
export function inputText(inputs: unknown): string | null {
  if (typeof inputs === 'string') return inputs;
  if (Array.isArray(inputs) && inputs.length === 1) return inputText(inputs[0]);
  if (typeof inputs === 'object' && inputs !== null && typeof (inputs as { text?: unknown }).text === 'string') return (inputs as { text: string }).text;
  return null;
}

/** The label a classifier's output names (the best one of a list), or null. */
export function outputLabel(output: unknown): string | null {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.length > 0 ? outputLabel(output[0]) : null;
  if (typeof output === 'object' && output !== null) {
    const label = (output as { label?: unknown }).label;
    if (typeof label === 'string' || typeof label === 'number') return String(label);
  }
  return null;
}

export function trainingRows(records: readonly StoredFeedback[], o: TrainingRowOptions): { rows: TrainingRow[]; counts: TrainingRowCounts } {
  const counts: TrainingRowCounts = { records: records.length, labelled: 0, rated: 0, unlabelled: 0, not_text: 0, unknown_label: 0, excluded: 0, superseded: 0 };
  const byText = new Map<string, { row: TrainingRow; how: 'labelled' | 'rated' }>();
  for (const r of records) {
    const text = inputText(r.inputs);
    if (text === null || text.trim() === '') {
      counts.not_text++;
      continue;
    }
    const given = r.label?.trim() ? r.label.trim() : null;
    const approved = given === null && r.rating !== null && r.rating >= o.minRating ? outputLabel(r.output)?.trim() || null : null;
    const label = given ?? approved;
    if (label === null) counts.unlabelled++;
    else if (o.exclude?.has(text)) counts.excluded++;
    else if (o.labels && !o.labels.has(label)) counts.unknown_label++;
    else {
      const before = byText.get(text);
      if (before) {
        counts.superseded++;
        counts[before.how]--;
        byText.delete(text); // re-inserted below, so the row takes the place of its latest feedback
      }
      const how = given !== null ? 'labelled' : 'rated';
      counts[how]++;
      byText.set(text, { row: { text, label }, how });
    }
  }
  return { rows: [...byText.values()].map((x) => x.row), counts };
}
