/**
 * `compactlm summarize` and `compactlm eval --task summarize` through the built CLI, on the shipped
 * models/compactlm-tiny: one document (argument, stdin), --json's shape (src/summarize/summarizer.ts), lengths,
 * the CSV mode, a 20,000-word document, and the bad inputs (one line, non-zero exit, nothing written).
 * (npm test builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { installedDefaultModel } from '../../src/model/default-model.js';
import { rougeScores } from '../../src/summarize/rouge.js';
import { splitSentences } from '../../src/summarize/sentences.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const TINY = join(root, 'models/compactlm-tiny');

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', input, env: { ...process.env, CI: '1' }, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** A bad input: one error line, a non-zero exit, nothing on stdout. */
function fails(args: string[], message: RegExp, input?: string) {
  const r = run(args, input);
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

const DOC = 'The city council approved a new budget on Monday. Mr. Smith, the U.S. envoy, spoke first. ' +
  'Taxes will rise by 3.5 percent next year. The budget funds two new schools and a library. ' +
  'Critics said the plan was rushed. "We need more time," one member said. The vote was 7 to 2.';

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'summarize-e2e-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm summarize: one document', () => {
  test('--json: {summary, method, sentences [{index, text, start, end, score}] in document order, num_sentences}', () => {
    const r = run(['summarize', DOC, '--model', TINY, '--json', '--threads', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['summary', 'method', 'sentences', 'num_sentences']);
    expect(out.method).toBe('centroid');
    expect(out.num_sentences).toBe(splitSentences(DOC).length);
    expect(out.num_sentences).toBe(7);
    expect(out.sentences).toHaveLength(3);
    let last = -1;
    for (const s of out.sentences) {
      expect(Object.keys(s)).toEqual(['index', 'text', 'start', 'end', 'score']);
      expect(DOC.slice(s.start, s.end)).toBe(s.text);
      expect(s.index).toBeGreaterThan(last);
      expect(s.score).toBeGreaterThan(-1);
      expect(s.score).toBeLessThanOrEqual(1 + 1e-9);
      last = s.index;
    }
    expect(out.summary).toBe(out.sentences.map((s: { text: string }) => s.text).join('\n'));
    // without --json: the same sentences, one per line
    const plain = run(['summarize', DOC, '--model', TINY, '--threads', '1']);
    expect(plain.stdout).toBe(`${out.summary}\n`);
  });

  test('lead, --sentences, --ratio, stdin, and a one-sentence document returned whole', () => {
    const lead = JSON.parse(run(['summarize', DOC, '--model', TINY, '--method', 'lead', '--sentences', '2', '--json']).stdout);
    expect(lead.sentences.map((s: { index: number }) => s.index)).toEqual([0, 1]);
    expect(lead.summary).toBe('The city council approved a new budget on Monday.\nMr. Smith, the U.S. envoy, spoke first.');
    expect(lead.sentences.map((s: { score: number }) => s.score)).toEqual([1, 1 - 1 / 7]);
    const ratio = JSON.parse(run(['summarize', '--model', TINY, '--method', 'lead', '--ratio', '0.5', '--json'], DOC).stdout);
    expect(ratio.sentences).toHaveLength(4); // round(0.5 · 7)
    const one = run(['summarize', 'Just one sentence here', '--model', TINY, '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ summary: 'Just one sentence here', method: 'centroid', num_sentences: 1,
      sentences: [{ index: 0, text: 'Just one sentence here', start: 0, end: 22, score: 1 }] });
  });

  test('the default model (models/compactlm-mini) when --model is not given', () => {
    if (!installedDefaultModel()) return; // the "no model" line is infer's, tested in infer.test.ts
    const r = run(['summarize', DOC, '--sentences', '1']);
    expect(r.code).toBe(0);
    expect(splitSentences(DOC).map((s) => s.text)).toContain(r.stdout.trim());
  });

  test('a 20,000-word document runs (sentences one by one, an over-long sentence in windows)', () => {
    const words = (n: number, w: string) => Array.from({ length: n }, (_, i) => `${w}${i % 50}`).join(' ');
    // 40 sentences of 480 words, then one of 800 words without a full stop (> 512 tokens: windows)
    const long = `${Array.from({ length: 40 }, (_, i) => `Part ${i} says ${words(480, 'word')}.`).join(' ')} Finally ${words(800, 'tail')}`;
    expect(long.split(' ').length).toBeGreaterThan(20_000);
    const r = run(['summarize', '--model', TINY, '--json', '--threads', '1'], long);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.num_sentences).toBe(41);
    expect(out.sentences).toHaveLength(3);
  });
});

describe('compactlm summarize --input (CSV)', () => {
  test('keeps every column and adds the summary column; quoted newlines survive', () => {
    writeFileSync(join(dir, 'docs.csv'), `id,article,note\n1,"${DOC.replace(/"/g, '""')}",a\n2,"First line.\n\nSecond paragraph here. And more.",b\n`);
    const r = run(['summarize', '--input', 'docs.csv', '--text-column', 'article', '-o', 'out.csv', '--model', TINY, '--method', 'lead', '--sentences', '2', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ input: 'docs.csv', output: 'out.csv', rows: 2, method: 'lead' });
    const rows = parse(readFileSync(join(dir, 'out.csv')), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['id', 'article', 'note', 'summary']);
    expect(rows[0].summary).toBe('The city council approved a new budget on Monday.\nMr. Smith, the U.S. envoy, spoke first.');
    expect(rows[1]).toEqual({ id: '2', article: 'First line.\n\nSecond paragraph here. And more.', note: 'b', summary: 'First line.\nSecond paragraph here.' });
    // --summary-column names the new column (an existing "summary" column is not overwritten)
    const c = run(['summarize', '--input', 'out.csv', '--text-column', 'article', '--summary-column', 'centroid', '-o', 'both.csv', '--model', TINY]);
    expect(c.code).toBe(0);
    expect(Object.keys((parse(readFileSync(join(dir, 'both.csv')), { columns: true }) as object[])[0])).toEqual(['id', 'article', 'note', 'summary', 'centroid']);
  });

  test('bad CSV input: one line, nothing written', () => {
    writeFileSync(join(dir, 'empty-row.csv'), `article\n"${DOC.replace(/"/g, '""')}"\n"  "\n`);
    const before = readdirSync(dir).sort();
    fails(['summarize', '--input', 'docs.csv', '--text-column', 'body', '-o', 'x.csv', '--model', TINY], /^compactlm: error: docs\.csv:1: no column "body" \(columns: "id", "article", "note"\)$/);
    fails(['summarize', '--input', 'empty-row.csv', '--text-column', 'article', '-o', 'x.csv', '--model', TINY], /^compactlm: error: empty-row\.csv:3: column "article" is empty/);
    fails(['summarize', '--input', 'out.csv', '--text-column', 'article', '-o', 'x.csv', '--model', TINY], /out\.csv:1: already has a column "summary": .*--summary-column/);
    fails(['summarize', '--input', 'docs.csv', '--text-column', 'article', '-o', 'docs.csv', '--model', TINY], /-o docs\.csv is --input docs\.csv: choose another output/);
    fails(['summarize', '--input', 'docs.csv', '--text-column', 'article', '--model', TINY], /--input needs -o <file>/);
    fails(['summarize', DOC, '--input', 'docs.csv', '-o', 'x.csv'], /give either a text argument or --input <csv>, not both/);
    fails(['summarize', DOC, '-o', 'x.csv'], /-o goes with --input <csv>/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});

describe('compactlm summarize: bad input', () => {
  test('each is one line with a non-zero exit', () => {
    fails(['summarize', '', '--model', TINY], /^compactlm: error: the text is empty/);
    fails(['summarize', '--model', TINY], /^compactlm: error: the text is empty/, '   ');
    fails(['summarize', '***', '--model', TINY], /^compactlm: error: the text has no sentences/);
    fails(['summarize', DOC, '--model', TINY, '--ratio', '1.5'], /--ratio <r>' argument '1\.5' is invalid\. 1\.5 is outside \(0, 1\]/);
    fails(['summarize', DOC, '--model', TINY, '--sentences', '0'], /--sentences <n>' argument '0' is invalid/);
    fails(['summarize', DOC, '--model', TINY, '--sentences', '2', '--ratio', '0.5'], /give either --sentences or --ratio, not both/);
    fails(['summarize', DOC, '--model', TINY, '--method', 'trained'],
      /compactlm-tiny: --method trained needs a folder from `compactlm finetune --task extractive` \(config\.json "task": "extractive"\), and this one has none: use --method centroid or lead$/);
    fails(['summarize', DOC, '--model', join(dir, 'nope')], /nope: model folder not found/);
    fails(['summarize', DOC, '--model', TINY, '--int8'], /--int8 needs an export folder/);
  });
});

describe('compactlm eval --task summarize', () => {
  test('ROUGE of the method and of lead with bootstrap intervals; lead matches ROUGE of the first sentences', () => {
    const docs = [
      [DOC, 'The council approved a budget.\nTaxes rise 3.5 percent.'],
      ['Rain fell all day. Roads were closed. Schools stayed open. Buses ran late.', 'Roads closed after rain.'],
      ['A new bridge opened. It cost ten million dollars. Drivers were pleased.', 'The bridge cost ten million dollars.'],
    ];
    writeFileSync(join(dir, 'pairs.csv'), `article,summary\n${docs.map(([a, s]) => `"${a.replace(/"/g, '""')}","${s}"`).join('\n')}\n`);
    const r = run(['eval', '--task', 'summarize', '--model', TINY, '--test', 'pairs.csv', '--text-column', 'article', '--sentences', '2', '--stem', '--json', '--report', 'rouge.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(JSON.parse(readFileSync(join(dir, 'rouge.json'), 'utf8'))).toEqual(rep);
    expect(rep).toMatchObject({ task: 'summarize', n: 3, method: 'centroid', sentences: 2, stem: true, seed: 42 });
    expect(Object.keys(rep.rouge)).toEqual(['centroid', 'lead']);
    for (const m of ['centroid', 'lead']) {
      expect(Object.keys(rep.rouge[m])).toEqual(['rouge1', 'rouge2', 'rougeL', 'rougeLsum']);
      for (const s of Object.values(rep.rouge[m]) as { f1: number; f1_ci95: [number, number] }[]) {
        expect(s.f1_ci95[0]).toBeLessThanOrEqual(s.f1 + 1e-12);
        expect(s.f1_ci95[1]).toBeGreaterThanOrEqual(s.f1 - 1e-12);
      }
    }
    const leadF1 = docs.map(([a, ref]) => rougeScores(ref, splitSentences(a).slice(0, 2).map((s) => s.text).join('\n'), { stem: true }).rouge1.f1);
    expect(rep.rouge.lead.rouge1.f1).toBeCloseTo(leadF1.reduce((x, y) => x + y, 0) / 3, 12);
    // the readable summary: one row per method
    const text = run(['eval', '--task', 'summarize', '--model', TINY, '--test', 'pairs.csv', '--text-column', 'article', '--method', 'lead']).stdout;
    expect(text).toMatch(/^pairs\.csv: 3 documents/);
    expect(text).toMatch(/\n {2}lead {6}/);
    expect(text).not.toMatch(/centroid/);
  });

  test('bad input: flags of other tasks, a missing reference column', () => {
    fails(['eval', '--task', 'classify', '--model', TINY, '--test', 'pairs.csv', '--stem'], /--stem is for --task summarize, not --task classify/);
    fails(['eval', '--task', 'summarize', '--model', TINY, '--test', 'pairs.csv', '--seq-len', '64'], /--seq-len is not a flag of --task summarize/);
    fails(['eval', '--task', 'summarize', '--model', TINY, '--test', 'pairs.csv', '--text-column', 'article', '--reference-column', 'highlights'],
      /pairs\.csv:1: no column "highlights" \(columns: "article", "summary"\)/);
  });
});
