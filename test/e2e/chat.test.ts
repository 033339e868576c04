/**
 * `compactlm chat` and `compactlm eval --task intent` as a user runs them (the built CLI, npm test builds dist/
 * first), with models/compactlm-tiny and the bundled shop FAQ (copied into a temporary folder, so the vector
 * cache is written there): one-shot --json, JSONL from stdin, the REPL on a pseudo-terminal (`script` from
 * util-linux; skipped with a line where it is missing), intent mode with a classifier fine-tuned by the real CLI
 * (test/e2e/helpers/classifier-fixture.ts), and bad input: one line, non-zero exit, nothing on stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildClassifier, inferClassify, REPO, type ClassifierFixture } from './helpers/classifier-fixture.js';

const cli = join(REPO, 'dist/cli/main.js');
const tiny = join(REPO, 'models/compactlm-tiny');
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasScript) process.stderr.write('chat.test.ts: the REPL test is skipped: `script` (util-linux) is not installed, so no pseudo-terminal\n');

let dir: string;
let faq: string;
let clf: ClassifierFixture;

function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, input, encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const chat = (args: string[], input?: string) => run(['chat', '--model', tiny, '--faq', faq, '--threads', '1', ...args], input);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const faqRows = () => parse(readFileSync(faq), { columns: true }) as { question: string; answer: string; intent: string }[];

/** The single error line of a failed run: exit status, stdout empty. */
function expectError(r: ReturnType<typeof run>, code: number, line: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('compactlm: '));
  expect(errors).toEqual([expect.stringMatching(line)]);
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'chat-e2e-'));
  faq = join(dir, 'faq.csv');
  copyFileSync(join(REPO, 'datasets/shop-faq.csv'), faq);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm chat --faq', () => {
  test('one message --json: the ChatAnswer, from an FAQ row; the vectors cached beside the FAQ and reused', () => {
    const r = chat(['where can I follow my parcel?', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const a = JSON.parse(lines[0]);
    expect(Object.keys(a)).toEqual(['answer', 'source', 'score', 'fallback', 'alternatives']);
    const rows = faqRows();
    const row = rows[a.source.row - 1];
    expect(a.source).toEqual({ row: a.source.row, question: row.question, intent: row.intent });
    expect(typeof a.fallback).toBe('boolean');
    expect(a.answer).toBe(a.fallback ? expect.stringMatching(/^I'm not sure — here are the closest topics: /) : row.answer);
    expect(a.alternatives).toHaveLength(3); // --top-k 3
    for (const alt of a.alternatives) {
      expect(Object.keys(alt).sort()).toEqual(['answer', 'intent', 'question', 'row', 'score']);
      expect(rows[alt.row - 1]).toEqual({ question: alt.question, answer: alt.answer, intent: alt.intent });
      expect(alt.score).toBeLessThanOrEqual(a.score);
    }
    const intents = [a.source.intent, ...a.alternatives.map((x: { intent: string }) => x.intent)];
    expect(new Set(intents).size).toBe(4); // each topic once
    const cache = `${faq}.compactlm-vectors.json`;
    expect(JSON.parse(readFileSync(cache, 'utf8'))).toMatchObject({ rows: 60, dim: 128 });
    const again = chat(['where can I follow my parcel?', '--json']);
    expect(again.stdout).toBe(r.stdout);
    expect(again.stderr).not.toMatch(/encoded the 60 FAQ questions/); // read from the cache
  });

  test('below --threshold: the closest topics, or the --fallback line', () => {
    const a = JSON.parse(chat(['where can I follow my parcel?', '--json', '--threshold', '1']).stdout);
    expect(a.fallback).toBe(true);
    const topics = [a.source.question, ...a.alternatives.slice(0, 2).map((x: { question: string }) => x.question)];
    expect(a.answer).toBe(`I'm not sure — here are the closest topics: ${topics.map((t) => JSON.stringify(t)).join(', ')}`);
    const b = JSON.parse(chat(['where can I follow my parcel?', '--json', '--threshold', '1', '--fallback', 'Let me connect you to a colleague.', '--top-k', '0']).stdout);
    expect(b).toMatchObject({ answer: 'Let me connect you to a colleague.', fallback: true, alternatives: [] });
    // readable form: the answer, then where it came from
    const text = chat(['where can I follow my parcel?', '--threshold', '1', '--fallback', 'Hand-off.']).stdout.split('\n');
    expect(text[0]).toBe('Hand-off.');
    expect(text[1]).toMatch(/^ {2}\(fallback: best match FAQ row \d+: ".+", score [\d.]+ \(threshold 1\)\)$/);
  });

  test('JSONL from stdin: {"message", "history"?}, a JSON string or plain text per line → one ChatAnswer line each, in order', () => {
    const one = JSON.parse(chat(['how do I pay?', '--json']).stdout);
    const input = [
      JSON.stringify({ message: 'how do I pay?' }), '', '"how do I pay?"', 'how do I pay?',
      JSON.stringify({ message: 'and by PayPal?', history: ['how do I pay?', { role: 'bot', text: 'By card.' }, { role: 'user', text: 'ok' }] }),
    ].join('\n');
    const r = chat([], `${input}\n`);
    expect(r.code).toBe(0);
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(answers).toHaveLength(4);
    for (const a of answers.slice(0, 3)) expect(a).toEqual(one);
    expect(Object.keys(answers[3])).toEqual(['answer', 'source', 'score', 'fallback', 'alternatives']);
  });

  test('bad JSONL lines: one line naming <stdin>:line', () => {
    expectError(chat([], '{"message": "   "}\n'), 1, /<stdin>:1: empty message$/);
    expectError(chat([], 'hello\n{"text": "x"}\n'), 1, /<stdin>:2: a JSONL line must be an object with a string "message" field/);
    expectError(chat([], '{"message": "x", "history": "y"}\n'), 1, /<stdin>:1: "history" must be an array of the earlier turns/);
    expectError(chat([], '{"message": "x", "history": [{"role": "agent", "text": "y"}]}\n'), 1, /<stdin>:1: "history" must be an array of the earlier turns/);
    expectError(chat([], '{"message": \n'), 1, /<stdin>:1: not valid JSON/);
  });

  test('bad input: an FAQ without answer column, duplicate questions, an empty message, --faq with --responses', () => {
    writeFileSync(join(dir, 'no-answer.csv'), 'question,intent\nWhere is my order?,track\n');
    expectError(chat(['hi'].concat(['--faq', join(dir, 'no-answer.csv')])), 1, /no-answer\.csv:1: no column "answer" \(columns: "question", "intent"\)$/);
    writeFileSync(join(dir, 'dup.csv'), 'question,answer\nWhere is my order?,Open Orders.\nHow do I pay?,By card.\nwhere is my order,Track it.\n');
    expectError(chat(['hi', '--faq', join(dir, 'dup.csv')]), 1, /dup\.csv:4: row 3: duplicate question "where is my order" \(row 1, line 2 asks the same\)$/);
    expect(existsSync(join(dir, 'dup.csv.compactlm-vectors.json'))).toBe(false);
    expectError(chat(['  ']), 1, /empty message/);
    expectError(run(['chat', '--model', tiny, 'hi']), 2, /give --faq <faq\.csv> .* or --responses <responses\.csv>/);
    expectError(run(['chat', '--model', tiny, '--faq', faq, '--responses', faq, 'hi']), 2, /give --faq .* one of the two/);
    expectError(chat(['hi', '--oos-label', 'none']), 2, /--oos-label goes with --responses/);
    expectError(chat(['hi', '--int8']), 1, /--int8 needs an export folder .* but .*compactlm-tiny is a model folder/);
  });

  (hasScript ? test : test.skip)('on a terminal: a conversation with /reset and /quit (or Ctrl-D)', () => {
    const talk = (input: string) => {
      const { CI: _ci, ...env } = process.env;
      const cmd = `stty cols 160 2>/dev/null; exec ${[process.execPath, cli, 'chat', '--model', tiny, '--faq', faq, '--threads', '1', '--top-k', '1'].map(quote).join(' ')}`;
      const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, input, encoding: 'utf8', env: { ...env, FORCE_COLOR: '0' }, timeout: 120_000 });
      return { code: r.status, out: r.stdout.replace(/\r/g, '') };
    };
    const r = talk('where is my order?\n/reset\n/nope\nwhere is my order?\n/quit\n');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/CompactLM chat, answering from the FAQ .*faq\.csv\. \/reset starts over, \/quit \(or Ctrl-D\) ends\./);
    const answers = [...r.out.matchAll(/bot> (.+)\n {2}\((FAQ row \d+: "[^"]+", score [\d.]+)\)/g)].map((m) => m[2]);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toBe(answers[1]);
    expect(r.out).toContain('(conversation reset)');
    expect(r.out).toContain('unknown command /nope: /reset or /quit');
  });

  (hasScript ? test : test.skip)('on a terminal: Ctrl-D at the prompt ends the conversation', async () => {
    // typed only once the first answer is on screen: before that the terminal is not yet in readline's raw mode
    const { CI: _ci, ...env } = process.env;
    const cmd = `exec ${[process.execPath, cli, 'chat', '--model', tiny, '--faq', faq, '--threads', '1'].map(quote).join(' ')}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: { ...env, FORCE_COLOR: '0' } });
    let out = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!sent && /bot> [\s\S]*you> /.test(out)) {
        sent = true;
        child.stdin.write('\x04');
      }
    });
    child.stdin.write('where is my order?\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(sent).toBe(true);
    expect(code).toBe(0);
  });
});

describe('compactlm chat --responses and eval --task intent', () => {
  beforeAll(() => {
    mkdirSync(join(dir, 'clf'));
    clf = buildClassifier(join(dir, 'clf')); // labels amazon, imdb, yelp
  }, 300_000);
  const texts = ['What a lovely film, I would watch it again.', 'The battery died after two days.', 'The pasta was cold and the waiter rude.'];

  test('intent mode answers with the response of the intent the classifier picks', () => {
    const responses = join(dir, 'responses.csv');
    writeFileSync(responses, 'intent,response\namazon,About your order…\nimdb,About the film…\nyelp,About the restaurant…\n');
    const labels = inferClassify(clf.modelDir, texts).map((c) => c.label);
    const r = run(['chat', '--model', clf.modelDir, '--responses', responses, '--threshold', '0', '--threads', '1'], texts.map((t) => JSON.stringify({ message: t })).join('\n'));
    expect(r.code).toBe(0);
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const want: Record<string, string> = { amazon: 'About your order…', imdb: 'About the film…', yelp: 'About the restaurant…' };
    answers.forEach((a, i) => {
      expect(a).toMatchObject({ source: { intent: labels[i] }, answer: want[labels[i]], fallback: false });
      expect(a.alternatives.map((x: { intent: string }) => x.intent).sort()).toEqual(['amazon', 'imdb', 'yelp'].filter((l) => l !== labels[i]));
    });
  });

  test('a responses file missing intents the classifier can output: one line naming them, at start', () => {
    const partial = join(dir, 'partial.csv');
    writeFileSync(partial, 'intent,response\namazon,About your order…\n');
    expectError(run(['chat', '--model', clf.modelDir, '--responses', partial, 'hello']), 1,
      /partial\.csv: no response for 2 of the 3 intents that .* can output: imdb, yelp \(add an "intent,response" row for each, or check --oos-label \(now "oos"\)\)$/);
    expectError(run(['chat', '--model', tiny, '--responses', partial, 'hello']), 1, /is a BertForMaskedLM, not an intent classifier: --responses needs a folder from `compactlm finetune`/);
  });

  test('eval --task intent counts what chat does: in-scope answers right, out-of-scope ones falling back', () => {
    const test = join(dir, 'intent-test.csv');
    const rows = [...texts.map((t, i) => [t, ['imdb', 'amazon', 'yelp'][i]]), ['what is the capital of France?', 'oos'], ['tell me a joke', 'oos']];
    writeFileSync(test, `text,intent\n${rows.map((r) => r.map((c) => JSON.stringify(c)).join(',')).join('\n')}\n`);
    const threshold = 0.4;
    const r = run(['eval', '--task', 'intent', '--model', clf.modelDir, '--test', test, '--threshold', String(threshold), '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ task: 'intent', n: 5, n_in_scope: 3, n_oos: 2, intents: 3, threshold, threshold_from: '--threshold', oos_label: 'oos' });
    const responses = join(dir, 'responses.csv');
    const answers = run(['chat', '--model', clf.modelDir, '--responses', responses, '--threshold', String(threshold)], rows.map((x) => x[0]).join('\n')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const right = answers.filter((a, i) => i < 3 && !a.fallback && a.source.intent === rows[i][1]).length;
    const caught = answers.filter((a, i) => i >= 3 && a.fallback).length;
    expect(rep.in_scope_accuracy).toBeCloseTo(right / 3, 12);
    expect(rep.oos_recall).toBeCloseTo(caught / 2, 12);
    // a test label that is neither an intent of the model nor the out-of-scope label
    writeFileSync(join(dir, 'bad-label.csv'), 'text,intent\nhello,greeting\n');
    expectError(run(['eval', '--task', 'intent', '--model', clf.modelDir, '--test', join(dir, 'bad-label.csv')]), 1,
      /bad-label\.csv:2: intent "greeting" in column "intent" is neither one of the 3 intents of the model nor the out-of-scope label "oos"/);
    expectError(run(['eval', '--task', 'intent', '--model', clf.modelDir, '--test', test, '--html', 'x.html']), 2, /--html is not a flag of --task intent/);
    expectError(run(['eval', '--model', clf.modelDir, '--test', test, '--oos-label', 'oos']), 2, /--oos-label is for --task intent, not --task classify/);
  });

  test('eval --task intent --faq: top-1 accuracy is what chat retrieves, the threshold chosen on --val', () => {
    const para = join(REPO, 'datasets/shop-faq-paraphrases.csv');
    const r = run(['eval', '--task', 'intent', '--model', tiny, '--faq', faq, '--test', para, '--val', para, '--text-column', 'question', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ n: 100, n_in_scope: 80, n_oos: 20, intents: 20, threshold_from: 'val', model: { kind: 'faq retrieval' } });
    const rows = (parse(readFileSync(para), { columns: true }) as { question: string; intent: string }[]);
    const answers = chat(['--threshold', '-1', '--top-k', '2'], rows.map((x) => JSON.stringify({ message: x.question })).join('\n')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const inScope = rows.map((x, i) => [x.intent, answers[i]] as const).filter(([t]) => t !== 'oos');
    expect(rep.without_threshold.in_scope_accuracy).toBeCloseTo(inScope.filter(([t, a]) => a.source.intent === t).length / 80, 12);
    const top3 = inScope.filter(([t, a]) => [a.source.intent, ...a.alternatives.map((x: { intent: string }) => x.intent)].includes(t)).length / 80;
    expect(rep.top3_accuracy).toBeCloseTo(top3, 12);
    expect(rep.val_metrics.in_scope_accuracy).toBe(rep.in_scope_accuracy); // val = test here
    expect(existsSync(join(dir, 'faq.csv.compactlm-vectors.json'))).toBe(true); // from the chat runs; eval writes none
  });
});
