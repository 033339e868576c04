/**
 * The feedback loop end to end, with the real CLI:
 * - `compactlm serve --feedback-db` stores POST /v1/feedback; `compactlm feedback export` turns it into the
 *   text,label CSV `finetune --train` reads; the refusals (an output that is an input, --no-feedback with a db);
 * - the promotion gate both ways: a deliberately worse fine-tune (compactlm-tiny trained on shuffled labels) is
 *   refused against the shipped models/compactlm-mini-sentiment and says so, and the shipped model is promoted over
 *   it into the current model's own folder; both reports carry the numbers `compactlm eval --json` prints.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { Rng } from '../../src/util/rng.js';
import { compactlm, REPO } from './helpers/classifier-fixture.js';
import { startServe } from './turing-serve.js';

let dir: string;
const file = (name: string) => join(dir, name);
const GOOD = join(REPO, 'models', 'compactlm-mini-sentiment');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function run(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(join(REPO, 'bin', 'compactlm'), args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 240_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedback-e2e-'));
  const all = parse(readFileSync(join(REPO, 'datasets', 'sentiment.csv')), { columns: true }) as { text: string; label: string; source: string }[];
  // 60 test rows (20 per source, both labels); 96 training rows elsewhere, their labels shuffled (seeded)
  const pick = (from: number, n: number) => ['amazon', 'imdb', 'yelp'].flatMap((s) => {
    const rows = all.filter((r) => r.source === s);
    // the shipped classifier's labels (datasets/sentiment.csv has 0 and 1)
    return [...rows.slice(from, from + n), ...rows.slice(500 + from, 500 + from + n)].map((r) => ({ text: r.text, label: r.label === '1' ? 'positive' : 'negative' }));
  });
  writeFileSync(file('test.csv'), stringify(pick(400, 10), { header: true }));
  const train = pick(0, 16);
  const labels = new Rng(5).shuffle(train.map((r) => r.label)) as string[];
  writeFileSync(file('shuffled.csv'), stringify(train.map((r, i) => ({ text: r.text, label: labels[i] })), { header: true }));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve --feedback-db → feedback export', () => {
  test('what clients post becomes training rows', async () => {
    const server = await startServe(['--feedback-db', file('feedback.sqlite')], dir);
    try {
      const post = (body: unknown) => fetch(`${server.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const bodies = [
        { task: 'classify', inputs: 'The battery died after a day.', output: { label: 'positive', score: 0.6 }, label: 'negative' },  // a correction
        { task: 'classify', inputs: ['Lovely, works great'], output: [{ label: 'positive', score: 0.9 }], rating: 5 },         // approved
        { task: 'classify', inputs: 'meh', output: { label: 'positive' }, rating: 2 },                                          // low rating, no label
      ];
      const ids = [];
      for (const b of bodies) {
        const res = await post(b);
        expect(res.status).toBe(201);
        ids.push(((await res.json()) as { id: number }).id);
      }
      expect(ids).toEqual([1, 2, 3]);
      const bad = await post({ task: 'classify', inputs: 'x', output: 'y', rating: 0 });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const summary = JSON.parse(compactlm(['feedback', 'export', '--db', file('feedback.sqlite'), '-o', file('feedback.csv'), '--json']));
    expect(summary).toMatchObject({ records: 3, labelled: 1, rated: 1, unlabelled: 1, feedback_rows: 2, rows: 2 });
    expect(readFileSync(file('feedback.csv'), 'utf8')).toBe('text,label\nThe battery died after a day.,negative\n"Lovely, works great",positive\n');
    // train + feedback in one file, and the readable line
    expect(compactlm(['feedback', 'export', '--db', file('feedback.sqlite'), '--base', file('shuffled.csv'), '--exclude', file('test.csv'), '-o', file('both.csv')]))
      .toBe(`${file('both.csv')}: 98 rows (96 from ${file('shuffled.csv')} + 2 feedback: 1 labelled, 1 rated ≥ 4) from 3 "classify" records in ${file('feedback.sqlite')}; skipped 1 no label or rating ≥ 4\n`);
  }, 120_000);

  test('refusals: an output that is an input, --feedback-db with --no-feedback', () => {
    for (const [args, message] of [
      [['feedback', 'export', '--db', file('feedback.sqlite'), '-o', file('feedback.sqlite')], /-o .*feedback\.sqlite is --db .*feedback\.sqlite: choose another output/],
      [['feedback', 'export', '--db', file('feedback.sqlite'), '--base', file('test.csv'), '-o', file('test.csv')], /-o .*test\.csv is --base .*test\.csv/],
      [['serve', '--feedback-db', file('x.sqlite'), '--no-feedback', '--port', '0'], /give --feedback-db <file> \(feedback on\) or --no-feedback \(off\), not both/],
    ] as const) {
      const r = run([...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(file('x.sqlite'))).toBe(false);
  });
});

describe('feedback promote', () => {
  let worse: string;
  let evalOf: Record<string, { accuracy: number; macro_f1: number }>;
  beforeAll(() => {
    worse = file('worse');
    compactlm(['finetune', '--model', join(REPO, 'models', 'compactlm-tiny'), '--train', file('shuffled.csv'), '--val', file('test.csv'),
      '--label-column', 'label', '--out', worse, '--steps', '12', '--batch-size', '16', '--max-length', '32', '--lr', '1e-3', '--seed', '3', '--threads', '1']);
    const ev = (model: string) => JSON.parse(compactlm(['eval', '--model', model, '--test', file('test.csv'), '--seed', '42', '--json'])) as { accuracy: number; macro_f1: number };
    evalOf = { good: ev(GOOD), worse: ev(worse) };
    expect(evalOf.worse.accuracy).toBeLessThan(evalOf.good.accuracy); // the premise of the test
  }, 300_000);

  test('a worse candidate is refused and says so; --into then holds the current model', () => {
    const r = run(['feedback', 'promote', '--candidate', worse, '--current', GOOD, '--test', file('test.csv'), '--into', file('shipped'), '--report', file('refused.json')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^promote: refused ${worse}; ${file('shipped')} holds the current model ${GOOD}: candidate accuracy [0-9.]+ < current [0-9.]+: it would regress on ${file('test.csv')} \\(60 rows;`));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const rep = JSON.parse(readFileSync(file('refused.json'), 'utf8'));
    expect(rep).toMatchObject({ decision: 'refused', metric: 'accuracy', tolerance: 0, n: 60, into_holds: 'current', seed: 42 });
    expect(rep.candidate).toMatchObject({ model: worse, accuracy: evalOf.worse.accuracy, macro_f1: evalOf.worse.macro_f1 });
    expect(rep.current).toMatchObject({ model: GOOD, accuracy: evalOf.good.accuracy, macro_f1: evalOf.good.macro_f1 });
    expect(rep.delta).toBeCloseTo(evalOf.worse.accuracy - evalOf.good.accuracy, 12);
    expect(sha(file('shipped/model.safetensors'))).toBe(sha(join(GOOD, 'model.safetensors')));
  }, 120_000);

  test('a candidate that does not regress is promoted into the current model\'s folder, atomically, without the run state', () => {
    const slot = file('slot');
    cpSync(worse, slot, { recursive: true });
    const r = run(['feedback', 'promote', '--candidate', GOOD, '--current', slot, '--into', slot, '--test', file('test.csv'), '--json']);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ decision: 'promoted', into: slot, into_holds: 'candidate' });
    expect(rep.candidate.accuracy).toBe(evalOf.good.accuracy);
    expect(rep.current.accuracy).toBe(evalOf.worse.accuracy);
    expect(rep.reason).toMatch(/^candidate accuracy [0-9.]+ ≥ current [0-9.]+: no regression$/);
    expect(sha(join(slot, 'model.safetensors'))).toBe(sha(join(GOOD, 'model.safetensors')));
    expect(readdirSync(slot).sort()).toEqual(readdirSync(GOOD).sort());
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // the worse run's checkpoints are not carried into a promoted copy of it
    const again = run(['feedback', 'promote', '--candidate', worse, '--current', GOOD, '--into', file('tolerant'), '--test', file('test.csv'), '--tolerance', '1']);
    expect(again.stdout).toMatch(/^promote: promoted /);
    expect(existsSync(join(worse, 'checkpoints'))).toBe(true);
    expect(existsSync(file('tolerant/checkpoints'))).toBe(false);
    expect(existsSync(file('tolerant/config.json'))).toBe(true);
  }, 180_000);

  test('bad flags: one line, exit 2, nothing written', () => {
    for (const [args, message] of [
      [['--candidate', worse, '--current', worse], /--candidate and --current are the same folder/],
      [['--candidate', worse, '--current', GOOD, '--into', worse], /--into .*worse is --candidate/],
      [['--candidate', file('nope'), '--current', GOOD], /--candidate .*nope: not found/],
      [['--candidate', worse, '--current', GOOD, '--into', dir], /--into .* contains --test|exists and is not a model folder/],
    ] as const) {
      const r = run(['feedback', 'promote', '--test', file('test.csv'), '--into', file('never'), ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(file('never'))).toBe(false);
  });
});
