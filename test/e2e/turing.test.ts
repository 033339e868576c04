/**
 * The Turing-test challenge end to end, as a user runs it: `compactlm turing import` (and its refusals), the real
 * `compactlm serve --turing-db` with 200 judges voting at once over HTTP, and `compactlm turing report` counting
 * every one of them; GET /v1/turing/next never carries a system name or the order. (The page in a browser:
 * turing-browser.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { compactlm, REPO } from './helpers/classifier-fixture.js';
import { startServe, type ServeProcess } from './turing-serve.js';

let dir: string;
let server: ServeProcess;
const file = (name: string) => join(dir, name);
const SYSTEMS = ['sys-zebra', 'sys-quokka', 'human'];

function fails(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(join(REPO, 'bin', 'compactlm'), args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'turing-e2e-'));
  const items = Array.from({ length: 12 }, (_, i) => {
    const [a, b] = [[0, 2], [1, 2], [0, 1]][i % 3];
    return { prompt: `Question number ${i}?`, system_a: SYSTEMS[a], answer_a: `Answer ${i} one.`, system_b: SYSTEMS[b], answer_b: `Answer ${i} two.` };
  });
  writeFileSync(file('items.csv'), stringify(items, { header: true, columns: ['prompt', 'system_a', 'answer_a', 'system_b', 'answer_b'] }));
  const summary = JSON.parse(compactlm(['turing', 'import', '--items', file('items.csv'), '--db', file('turing.sqlite'), '--json']));
  expect(summary).toEqual({ items: file('items.csv'), db: file('turing.sqlite'), rows: 12, added: 12, existing: 0, systems: ['human', 'sys-quokka', 'sys-zebra'], db_items: 12 });
  // no rate limit: the 200 judges below all come from one address
  server = await startServe(['--turing-db', file('turing.sqlite'), '--rate-limit', '0'], dir);
}, 120_000);
afterAll(async () => {
  if (server) expect(await server.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const report = () => JSON.parse(compactlm(['turing', 'report', '--db', file('turing.sqlite'), '--json'])) as Record<string, any>;

describe('compactlm turing import', () => {
  test('importing again adds nothing; a bad file is one line, exit 1, and changes nothing', () => {
    expect(compactlm(['turing', 'import', '--items', file('items.csv'), '--db', file('turing.sqlite')]))
      .toBe(`${file('items.csv')}: 12 items → ${file('turing.sqlite')} (0 new, 12 already there; 12 in all); systems: human, sys-quokka, sys-zebra\n`);
    // a good row first, then a bad one: nothing of the file is stored
    writeFileSync(file('bad.csv'), 'prompt,system_a,answer_a,system_b,answer_b\nnew prompt,a,x,b,y\nother,lead,"",centroid,z\n');
    const r = fails(['turing', 'import', '--items', file('bad.csv'), '--db', file('turing.sqlite')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`compactlm: error: ${file('bad.csv')}:3: empty answer in column "answer_a"\n`);
    expect(report().items).toBe(12);
    const same = fails(['turing', 'import', '--items', file('items.csv'), '--db', file('items.csv')]);
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/--db .*items\.csv is --items .*items\.csv: choose another output/);
  });
});

describe('compactlm serve --turing-db', () => {
  test('GET /v1/turing/next: no system name, no order, in the body or the headers', async () => {
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${server.url}/v1/turing/next`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Object.keys(JSON.parse(text)).sort()).toEqual(['answers', 'item_id', 'prompt']);
      for (const s of SYSTEMS) expect(text).not.toContain(s);
      expect(text).not.toMatch(/system|shown|swap/i);
      expect(JSON.stringify([...res.headers])).not.toMatch(/sys-|human/);
    }
  });

  test('without --feedback-db the server keeps no feedback: POST /v1/feedback is 404 not_available', async () => {
    const res = await post('/v1/feedback', { task: 'classify', inputs: 'x', output: 'y', rating: 5 });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_available');
  });

  test('200 judges voting at once are all counted by `compactlm turing report`', async () => {
    const before = report().votes as number;
    const ids = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const p = (await (await fetch(`${server.url}/v1/turing/next?judge=judge-${i}`)).json()) as { item_id: string };
      const res = await post('/v1/turing/vote', { item_id: p.item_id, choice: (['A', 'B', 'tie', 'bad'] as const)[i % 4], human_guess: i % 2 ? 'B' : null });
      expect(res.status).toBe(200);
      return p.item_id;
    }));
    expect(new Set(ids).size).toBe(200);
    const r = report();
    expect(r.votes - before).toBe(200);
    expect(Object.keys(r)).toEqual(['db', 'items', 'votes', 'bad_votes', 'systems', 'detection', 'bradley_terry']);
    expect(r.bad_votes).toBe(50);
    for (const s of r.systems) {
      expect(Object.keys(s)).toEqual(['system', 'votes', 'wins', 'losses', 'ties', 'bad', 'win_rate', 'bt_score', 'bt_ci95', ...(s.system === 'human' ? [] : ['detection'])]);
      expect(s.wins + s.losses + s.ties + s.bad).toBe(s.votes);
    }
    // every vote involves two systems
    expect(r.systems.reduce((n: number, s: { votes: number }) => n + s.votes, 0)).toBe(2 * r.votes);
    // the judges guessed on half of the votes; only human-vs-model items count
    expect(r.detection.guesses).toBeGreaterThan(0);
    expect(r.detection.guesses).toBeLessThanOrEqual(100);
    const text = compactlm(['turing', 'report', '--db', file('turing.sqlite')]);
    expect(text).toMatch(/^.*turing\.sqlite: 12 items, 200 votes \(50 "both bad"\)/);
  });
});
