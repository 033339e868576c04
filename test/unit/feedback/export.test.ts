/**
 * The feedback store and `feedback export`/`import` as library calls: records round-trip as JSON, imports are
 * idempotent and all-or-none, the export writes text,label (base rows first) that finetune's reader accepts, and
 * a failure leaves no output.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFeedback } from '../../../src/feedback/export.js';
import { readFeedbackCsv } from '../../../src/feedback/import-csv.js';
import { FeedbackStore } from '../../../src/feedback/store.js';
import { readLabeledCsv } from '../../../src/finetune/labeled-data.js';
import { TuringStore } from '../../../src/turing/store.js';

let dir: string;
const file = (name: string) => join(dir, name);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedback-export-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = (o: Partial<Parameters<typeof exportFeedback>[0]> = {}) =>
  ({ db: file('f.sqlite'), out: file('out.csv'), task: 'classify', minRating: 4, textColumn: 'text', labelColumn: 'label', ...o });

describe('feedback store, import and export', () => {
  test('records keep their JSON; a CHECK violation fails the whole batch', () => {
    const store = FeedbackStore.open(file('f.sqlite'), { create: true });
    const id = store.add({ task: 'classify', inputs: { text: 'héllo "quoted"' }, output: [{ label: '1', score: 0.75 }], rating: 2 });
    expect(store.list('classify')).toEqual([expect.objectContaining({ id, inputs: { text: 'héllo "quoted"' }, output: [{ label: '1', score: 0.75 }], label: null, rating: 2 })]);
    expect(store.list('summarize')).toEqual([]);
    expect(() => store.addMany([{ task: 'classify', inputs: 'ok', output: null }, { task: 'classify', inputs: 'x', output: null, rating: 7 }])).toThrow(/CHECK/);
    expect(store.count()).toBe(1);
    store.close();
    expect(() => TuringStore.open(file('f.sqlite'))).toThrow(/not a Turing-test database/);
  });

  test('import: checked first, stored once', async () => {
    writeFileSync(file('fb.csv'), 'text,label,rating\ngreat,1,5\nawful,0,\n');
    const records = await readFeedbackCsv(file('fb.csv'), 'classify');
    expect(records).toEqual([
      { task: 'classify', inputs: 'great', output: null, label: '1', rating: 5 },
      { task: 'classify', inputs: 'awful', output: null, label: '0', rating: null },
    ]);
    const store = FeedbackStore.open(file('f.sqlite'), { create: true });
    expect(store.addMany(records, { origin: true }).every((x) => x !== null)).toBe(true);
    expect(store.addMany(records, { origin: true })).toEqual([null, null]);
    expect(store.count()).toBe(2);
    store.close();
    writeFileSync(file('bad.csv'), 'text,label,rating\ngreat,1,5\nawful,0,11\n');
    await expect(readFeedbackCsv(file('bad.csv'), 'classify')).rejects.toThrow(`${file('bad.csv')}:3: rating "11" is not a number from 1 to 5`);
    writeFileSync(file('bad2.csv'), 'text,label\ngreat,\n');
    await expect(readFeedbackCsv(file('bad2.csv'), 'classify')).rejects.toThrow(`${file('bad2.csv')}:2: empty label in column "label"`);
  });

  test('export: base rows, then feedback (labels of the base only, test texts left out), as finetune reads it', async () => {
    const store = FeedbackStore.open(file('f.sqlite'), { create: true });
    store.addMany([
      { task: 'classify', inputs: 'loved it, "really"', output: { label: '0' }, label: '1' },
      { task: 'classify', inputs: 'fine, works', output: { label: '1', score: 0.8 }, rating: 5 },
      { task: 'classify', inputs: 'a test sentence', output: null, label: '0' },
      { task: 'classify', inputs: 'typo label', output: null, label: 'pos' },
      { task: 'summarize', inputs: 'long text', output: 'short', rating: 5 },
    ]);
    store.close();
    writeFileSync(file('train.csv'), 'text,label,source\nbase one,0,imdb\nbase two,1,yelp\n');
    writeFileSync(file('test.csv'), 'text,label\na test sentence,0\n');
    const r = await exportFeedback(opts({ base: file('train.csv'), exclude: file('test.csv') }));
    expect(r).toMatchObject({ records: 4, labelled: 1, rated: 1, excluded: 1, unknown_label: 1, base_rows: 2, feedback_rows: 2, rows: 4 });
    expect(readFileSync(file('out.csv'), 'utf8')).toBe('text,label\nbase one,0\nbase two,1\n"loved it, ""really""",1\n"fine, works",1\n');
    const read = await readLabeledCsv(file('out.csv'), { textColumn: 'text', labelColumn: 'label' });
    expect(read.labels).toEqual(['0', '1', '1', '1']);
  });

  test('export fails with one line and writes nothing: no rows, a bad base', async () => {
    FeedbackStore.open(file('f.sqlite'), { create: true }).close();
    await expect(exportFeedback(opts())).rejects.toThrow(`${file('f.sqlite')}: no feedback of task "classify" to train on (0 records, none labelled or rated ≥ 4)`);
    writeFileSync(file('train.csv'), 'text,label\nok,1\n,0\n');
    await expect(exportFeedback(opts({ base: file('train.csv') }))).rejects.toThrow(`${file('train.csv')}:3: empty text in column "text"`);
    await expect(exportFeedback(opts({ db: file('missing.sqlite') }))).rejects.toThrow('missing.sqlite: feedback database not found');
    expect(existsSync(file('out.csv'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
  });
});
