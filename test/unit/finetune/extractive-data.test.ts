/**
 * The data of `finetune --task extractive`: oracle labels from the CSV, BertSumExt's input layout (interval
 * segment ids, [CLS] positions, whole sentences only, a too-long sentence cut), the first-window truncation, the
 * batch source (flat [CLS] positions, masks, exact resume) and the bad inputs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExtractiveBatchSource, extractiveFeeds, fixedExtractiveFeeds } from '../../../src/finetune/extractive-batches.js';
import { encodeExtractive, packWindow, readExtractiveCsv, sentenceWindows, type ExtractiveDoc } from '../../../src/finetune/extractive-data.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'extractive-data-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const csv = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const cols = { textColumn: 'article', summaryColumn: 'summary' };

/** One token per word: id 1000 + its length (so a test can read the words back); [CLS] 101, [SEP] 102. */
const tok = { clsId: 101, sepId: 102, ids: (s: string) => s.split(/\s+/).filter(Boolean).map((w) => 1000 + w.length) };
const lengths = (...ns: number[]) => ns.map((n) => Array.from({ length: n }, (_, i) => 2000 + i));

describe('readExtractiveCsv', () => {
  test('labels 1 exactly the sentences the greedy oracle picks against the summary', async () => {
    // The summary is sentences 1 and 3 verbatim: together they reach ROUGE-1 = ROUGE-2 = 1, any other adds noise.
    const file = csv('ok.csv', 'article,summary\n' +
      '"It rained in the city. The council approved a budget of four million dollars. A dog barked. Taxes will rise by three percent next year.",' +
      '"The council approved a budget of four million dollars.\nTaxes will rise by three percent next year."\n' +
      '"Only one sentence here",Only one sentence\n');
    const docs = await readExtractiveCsv(file, cols);
    expect(docs.map((d) => d.labels)).toEqual([[0, 1, 0, 1], [1]]);
    expect(docs[0].sentences).toHaveLength(4);
    expect(docs.map((d) => d.line)).toEqual([2, 4]); // the first summary spans lines 2–3
  });

  test('bad inputs: one line naming the file, the line and the column', async () => {
    await expect(readExtractiveCsv(csv('nosum.csv', 'article,highlights\nA text. Another.,A text.\n'), cols)).rejects.toThrow(/nosum\.csv:1: no column "summary"/);
    await expect(readExtractiveCsv(csv('empty.csv', 'article,summary\nA text. Two.,x\n"Some text.","  "\n'), cols)).rejects.toThrow(/empty\.csv:3: empty summary in column "summary"/);
    await expect(readExtractiveCsv(csv('blank.csv', 'article,summary\n" ",x\n'), cols)).rejects.toThrow(/blank\.csv:2: empty text in column "article"/);
    await expect(readExtractiveCsv(csv('nowords.csv', 'article,summary\n"*** — ***",x\n'), cols)).rejects.toThrow(/nowords\.csv:2: column "article" has no sentences/);
    await expect(readExtractiveCsv(csv('nooverlap.csv', 'article,summary\nCats purr. Dogs bark.,zebra\n'), cols)).rejects.toThrow(/nothing to learn/);
    await expect(readExtractiveCsv(csv('same.csv', 'article\nA.\n'), { textColumn: 'article', summaryColumn: 'article' })).rejects.toThrow(/both "article"/);
  });
});

describe('BertSumExt layout', () => {
  test('[CLS] s [SEP] per sentence, interval segment ids, [CLS] positions; whole sentences up to maxLength', () => {
    const w = packWindow(lengths(3, 4, 2), 0, 12, tok); // 5 + 6 = 11 fit; + 4 would be 15
    expect(w.count).toBe(2);
    expect(w.ids).toEqual([101, 2000, 2001, 2002, 102, 101, 2000, 2001, 2002, 2003, 102]);
    expect(w.typeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(w.clsPositions).toEqual([0, 5]);
  });

  test('windows score every sentence once, in order; later ones start with up to half a window of context', () => {
    // sizes with [CLS]/[SEP]: 5, 6, 4, 12 (15 tokens cut to 10), 3, 3, 3, 3
    const ws = sentenceWindows(lengths(3, 4, 2, 15, 1, 1, 1, 1), 12, tok);
    expect(ws.map((w) => [w.first, w.count, w.context])).toEqual([
      [0, 2, 0], //  s0 s1 (11 tokens; s2 would make 15)
      [1, 2, 1], //  s1 as context (6 ≤ 12 / 2), then s2
      [3, 1, 0], //  s3 fills a window alone: no room for context
      [4, 4, 0], //  s4–s7 (12): s3 (12 > 6) is too big to be context
    ]);
    expect(ws[1].typeIds).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]); // segment ids restart in every window
    expect(ws[1].clsPositions).toEqual([0, 6]);
    expect(ws[2].ids).toHaveLength(12); // 15 tokens cut to 10 + [CLS] + [SEP]
    expect(ws[2].ids.slice(-2)).toEqual([2009, 102]);
    const scored = ws.flatMap((w) => Array.from({ length: w.count - w.context }, (_, s) => w.first + w.context + s));
    expect(scored).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const w of ws) expect(w.ids.length).toBeLessThanOrEqual(12);
  });

  test('a window that would only repeat context drops it', () => {
    // sizes 3, 5, 9: s0 s1 fill the first window; s1 (5 ≤ 12 / 2) could be context, but s2 does not fit behind it
    // (5 + 9 > 12), so s2 gets a window of its own
    const ws = sentenceWindows(lengths(1, 3, 7), 12, tok);
    expect(ws.map((w) => [w.first, w.count, w.context])).toEqual([[0, 2, 0], [2, 1, 0]]);
  });

  test('encodeExtractive: the first window of each document, its labels and sentences; documents cut are counted', () => {
    const docs: ExtractiveDoc[] = [
      { line: 2, sentences: ['aa bb cc', 'dd ee', 'ff gg hh ii'], reference: 'r0', labels: [1, 0, 1] },
      { line: 3, sentences: ['one', 'two words'], reference: 'r1', labels: [0, 1] },
    ];
    const ex = encodeExtractive(tok, docs, 10); // doc 0: 5 + 4 = 9 fit, the third (6) does not
    expect(ex.clsPositions).toEqual([[0, 5], [0, 3]]);
    expect(ex.labels).toEqual([[1, 0], [0, 1]]);
    expect(ex.sentences).toEqual([['aa bb cc', 'dd ee'], ['one', 'two words']]);
    expect(ex.ids[0]).toEqual([101, 1002, 1002, 1002, 102, 101, 1002, 1002, 102]);
    expect(ex.typeIds[1]).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect([ex.truncated, ex.droppedPositives, ex.longest, ex.maxSentences]).toEqual([1, 1, 9, 2]);
    expect(ex.references).toEqual(['r0', 'r1']);
  });
});

describe('batches', () => {
  const docs: ExtractiveDoc[] = Array.from({ length: 5 }, (_, k) => ({
    line: k + 2, sentences: Array.from({ length: 1 + (k % 3) }, (_, s) => `w${'x'.repeat(k)} s${s}`), reference: 'r', labels: Array.from({ length: 1 + (k % 3) }, (_, s) => (s + k) % 2),
  }));
  const ex = encodeExtractive(tok, docs, 16);
  const shape = { batchSize: 3, seqLen: 12, sentences: 3 };

  test('flat [CLS] positions b·T + t, labels and a sentence mask; empty rows are masked out', () => {
    const f = extractiveFeeds(ex, [2, 0], shape, 0); // doc 2: 3 sentences of 4 tokens; doc 0: 1
    expect(Array.from(f.cls_positions.data as BigInt64Array, Number)).toEqual([0, 4, 8, 12, 12, 12, 24, 24, 24]);
    expect(Array.from(f.sentence_mask.data as Float32Array)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(f.sentence_labels.data as Float32Array)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(f.token_type_ids.data as BigInt64Array, Number).slice(0, 12)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(f.attention_mask.data as BigInt64Array, Number).slice(12, 24)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(f.input_ids.dims).toEqual([3, 12]);
  });

  test('each epoch is a permutation; a restored state gives the same future batches; validation sees each document once', () => {
    const sites = [{ name: 'dropout.embeddings', shape: [3, 12, 2], keepProb: 0.9 }];
    const make = (state?: unknown) => new ExtractiveBatchSource(ex, { ...shape, padId: 0, dropoutSites: sites, seed: 5 }, state as never);
    const docOf = (f: ReturnType<ExtractiveBatchSource['next']>[number]) => Array.from({ length: 3 }, (_, b) => Number((f.input_ids.data as BigInt64Array)[b * 12 + 1]) - 1001);
    const a = make();
    const first = a.next(2).flatMap(docOf); // 6 rows: one epoch of 5, then one more
    expect(first.slice(0, 5).sort()).toEqual([0, 1, 2, 3, 4]);
    const saved = a.state();
    const next = a.next(2);
    const b = make(JSON.parse(JSON.stringify(saved)));
    expect(b.next(2)).toEqual(next);
    const fixed = fixedExtractiveFeeds(ex, shape, 0);
    expect(fixed).toHaveLength(2);
    expect(fixed.flatMap(docOf).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(fixed[1].sentence_mask.data as Float32Array)).toEqual([1, 0, 0, 1, 1, 0, 0, 0, 0]); // docs 3 and 4, one empty row
  });
});
