/**
 * `compactlm feedback import`: labelled rows from a CSV into the feedback log, as if users had sent them (hand
 * corrections, or the bundled fixture datasets/feedback.csv that the pipeline's improvement loop starts from).
 * Columns: text and label (required, non-empty), rating (optional, RATING_MIN–RATING_MAX or empty). The whole
 * file is checked before anything is stored, and stored in one transaction; a row imported before is not added
 * again (store.ts, origin).
 */
import { readCsv } from '../data/csv.js';
import { atLine } from '../util/errors.js';
import { RATING_MAX, RATING_MIN, type FeedbackRecord } from './store.js';

export async function readFeedbackCsv(file: string, task: string): Promise<FeedbackRecord[]> {
  const reader = await readCsv(file, { requireColumns: ['text', 'label'] });
  const hasRating = reader.header.includes('rating');
  const records: FeedbackRecord[] = [];
  for await (const { record, line } of reader.rows) {
    if (record.text.trim() === '') throw atLine(file, line, 'empty text in column "text"');
    const label = record.label.trim();
    if (label === '') throw atLine(file, line, 'empty label in column "label"');
    let rating: number | null = null;
    if (hasRating && record.rating.trim() !== '') {
      rating = Number(record.rating);
      if (!Number.isFinite(rating) || rating < RATING_MIN || rating > RATING_MAX) {
        throw atLine(file, line, `rating ${JSON.stringify(record.rating)} is not a number from ${RATING_MIN} to ${RATING_MAX}`);
      }
    }
    records.push({ task, inputs: record.text, output: null, label, rating });
  }
  return records;
}
