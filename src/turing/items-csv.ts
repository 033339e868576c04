/**
 * The items CSV of `compactlm turing import`: columns exactly `prompt,system_a,answer_a,system_b,answer_b` (others
 * are ignored), one item per row; a system named `human` marks a person's reference answer. Read whole and
 * checked before anything is stored, so a bad file stores nothing: a missing column, an empty prompt, system or
 * answer, or the same system on both sides is one line naming the file, the line and the problem.
 */
import { readCsv } from '../data/csv.js';
import { atLine } from '../util/errors.js';
import type { TuringItem } from './store.js';

export const ITEM_COLUMNS = ['prompt', 'system_a', 'answer_a', 'system_b', 'answer_b'] as const;

export async function readItemsCsv(file: string): Promise<TuringItem[]> {
  const reader = await readCsv(file, { requireColumns: [...ITEM_COLUMNS] });
  const items: TuringItem[] = [];
  for await (const { record, line } of reader.rows) {
    for (const column of ITEM_COLUMNS) {
      if (record[column].trim() === '') throw atLine(file, line, `empty ${column.startsWith('answer') ? 'answer' : column.startsWith('system') ? 'system name' : 'prompt'} in column "${column}"`);
    }
    // System names are labels: surrounding spaces are not part of them. Texts are kept as written.
    const item: TuringItem = {
      prompt: record.prompt,
      system_a: record.system_a.trim(),
      answer_a: record.answer_a,
      system_b: record.system_b.trim(),
      answer_b: record.answer_b,
    };
    if (item.system_a === item.system_b) throw atLine(file, line, `the same system "${item.system_a}" on both sides (system_a and system_b): an item compares two systems`);
    items.push(item);
  }
  return items;
}
