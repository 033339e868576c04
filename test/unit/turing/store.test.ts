/**
 * The Turing store: blind presentations (no system names, no order in what a judge gets), votes mapped back to
 * the systems through the order kept server-side, fewest-votes-first, one vote per presentation, atomic imports,
 * reproducibility with a seed, and the SQLite settings (WAL, foreign keys, the file's kind).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeedbackStore } from '../../../src/feedback/store.js';
import { PRESENTATION_TTL_MS, TuringStore, type TuringItem } from '../../../src/turing/store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'turing-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const item = (n: number, a = 'zeta-model', b = 'human'): TuringItem => ({
  prompt: `prompt ${n}`, system_a: a, answer_a: `answer ${n} written by side a`, system_b: b, answer_b: `answer ${n} written by side b`,
});

function open(o: { seed?: number; now?: () => number } = {}): TuringStore {
  return TuringStore.open(join(dir, 't.sqlite'), { create: true, seed: o.seed ?? 1, ...(o.now ? { now: o.now } : {}) });
}

describe('TuringStore', () => {
  test('a presentation has item_id, prompt and answers {A, B} only: no system name, no item number, no order', () => {
    const store = open();
    store.addItems([item(1, 'secret-system-one', 'secret-system-two')]);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = store.next()!;
      expect(Object.keys(p).sort()).toEqual(['answers', 'item_id', 'prompt']);
      expect(Object.keys(p.answers).sort()).toEqual(['A', 'B']);
      const json = JSON.stringify(p);
      expect(json).not.toMatch(/secret-system|human|system_a|system_b|swap|order/i);
      expect(p.item_id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(p.item_id).not.toMatch(/^\d+$/);
      seen.add(p.item_id);
      seen.add(`${p.answers.A === 'answer 1 written by side a' ? 'a' : 'b'}-first`);
    }
    // a fresh opaque id every time, and both orders shown
    expect([...seen].filter((s) => !s.endsWith('-first'))).toHaveLength(20);
    expect(seen.has('a-first') && seen.has('b-first')).toBe(true);
    store.close();
  });

  test('votes map back to the systems through the order kept in the store', () => {
    const store = open();
    store.addItems([item(1, 'model', 'human')]);
    const cast: { winner: string; guess: string | null }[] = [];
    for (let i = 0; i < 40; i++) {
      const p = store.next()!;
      const aIsModel = p.answers.A === 'answer 1 written by side a';
      // the judge always prefers the human's answer and always spots it
      const humanShown = aIsModel ? 'B' : 'A';
      expect(store.vote(p.item_id, humanShown, humanShown)).toEqual({ ok: true });
      cast.push({ winner: 'b', guess: 'b' });
    }
    const votes = store.votes();
    expect(votes.map((v) => ({ winner: v.winner, guess: v.guess }))).toEqual(cast);
    // the raw rows keep the vote as cast and the order: both orders occurred, and the choice differs with them
    const raw = store.db.prepare('SELECT choice, shown_a FROM votes').all() as { choice: string; shown_a: string }[];
    expect(new Set(raw.map((r) => `${r.shown_a}:${r.choice}`))).toEqual(new Set(['a:B', 'b:A']));
    store.close();
  });

  test('tie and bad are stored as such; a guess of null stays null', () => {
    const store = open();
    store.addItems([item(1)]);
    store.vote(store.next()!.item_id, 'tie', null);
    store.vote(store.next()!.item_id, 'bad', 'A');
    expect(store.votes().map((v) => [v.winner, v.guess === null])).toEqual([['tie', true], ['bad', false]]);
    store.close();
  });

  test('fewest votes (plus open presentations) first', () => {
    const store = open();
    store.addItems([item(1), item(2), item(3)]);
    const prompts = new Set<string>();
    const open3 = [store.next()!, store.next()!, store.next()!];
    for (const p of open3) prompts.add(p.prompt);
    expect(prompts).toEqual(new Set(['prompt 1', 'prompt 2', 'prompt 3'])); // concurrent judges spread out
    store.vote(open3[0].item_id, 'A', null);
    store.vote(open3[1].item_id, 'A', null);
    store.vote(open3[2].item_id, 'A', null);
    const again = store.next()!;
    store.vote(again.item_id, 'B', null);
    const third = store.next()!;
    const fourth = store.next()!;
    expect(new Set([again.prompt, third.prompt, fourth.prompt]).size).toBe(3);
    store.close();
  });

  test('one vote per presentation; unknown and expired ids are refused', () => {
    let now = 1_000_000;
    const store = open({ now: () => now });
    store.addItems([item(1)]);
    const p = store.next()!;
    expect(store.vote('not-a-token', 'A', null)).toMatchObject({ ok: false, code: 'unknown_item' });
    expect(store.vote(p.item_id, 'A', null)).toEqual({ ok: true });
    expect(store.vote(p.item_id, 'B', null)).toMatchObject({ ok: false, code: 'already_voted' });
    const late = store.next()!;
    now += PRESENTATION_TTL_MS;
    expect(store.vote(late.item_id, 'A', null)).toMatchObject({ ok: false, code: 'expired' });
    expect(store.counts()).toEqual({ items: 1, votes: 1 });
    expect(store.pruneExpired()).toBe(1);
    // next() prunes by itself now and then: 150 unvoted presentations that expire leave at most 100 behind
    for (let i = 0; i < 150; i++) store.next();
    now += PRESENTATION_TTL_MS;
    for (let i = 0; i < 50; i++) store.next();
    const left = (store.db.prepare('SELECT count(*) AS n FROM presentations WHERE voted = 0').get() as { n: number }).n;
    expect(left).toBeLessThanOrEqual(100);
    store.close();
  });

  test('a judge: the same open presentation again until they vote, then no item they voted on', () => {
    const store = open();
    store.addItems([item(1), item(2)]);
    const p = store.next('judge-1')!;
    expect(store.next('judge-1')).toEqual(p); // a reload does not reshuffle
    store.vote(p.item_id, 'A', null);
    const q = store.next('judge-1')!;
    expect(q.prompt).not.toBe(p.prompt);
    store.vote(q.item_id, 'B', null);
    expect(store.next('judge-1')).toBeNull();
    expect(store.next('judge-2')).not.toBeNull();
    expect(store.votes().map((v) => v.judge)).toEqual(['judge-1', 'judge-1']);
    store.close();
  });

  test('same seed → the same items in the same orders', () => {
    const run = (seed: number) => {
      const s = TuringStore.open(join(dir, `s${seed}-${Math.random()}.sqlite`), { create: true, seed });
      s.addItems([item(1), item(2), item(3), item(4)]);
      const shown = Array.from({ length: 12 }, () => {
        const p = s.next()!;
        s.vote(p.item_id, 'tie', null);
        return `${p.prompt}|${p.answers.A}`;
      });
      s.close();
      return shown;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  test('addItems: all or none, and an item already there is not added twice', () => {
    const store = open();
    expect(store.addItems([item(1), item(2)])).toEqual({ added: 2, existing: 0 });
    expect(store.addItems([item(2), item(3)])).toEqual({ added: 1, existing: 1 });
    expect(() => store.addItems([item(4), { ...item(5), system_b: 'zeta-model' }])).toThrow(/CHECK/);
    expect(store.counts().items).toBe(3);
    expect(store.systems()).toEqual(['human', 'zeta-model']);
    store.close();
  });

  test('SQLite settings: WAL, foreign keys on; other files are refused with one line', () => {
    const store = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(() => store.db.prepare("INSERT INTO presentations (token, item_id, shown_a, created_ms, expires_ms) VALUES ('x', 99, 'a', 0, 1)").run()).toThrow(/FOREIGN KEY/);
    store.close();

    const fb = join(dir, 'f.sqlite');
    FeedbackStore.open(fb, { create: true }).close();
    expect(() => TuringStore.open(fb)).toThrow(`${fb}: not a Turing-test database (it is another kind of CompactLM database)`);
    const text = join(dir, 'x.csv');
    writeFileSync(text, 'prompt,system_a\nthis is not a database at all, just some text that is long enough\n'.repeat(20));
    expect(() => TuringStore.open(text)).toThrow(`${text}: not an SQLite database (and so not a Turing-test database)`);
    expect(() => TuringStore.open(join(dir, 'missing.sqlite'))).toThrow('missing.sqlite: Turing-test database not found');
  });
});
