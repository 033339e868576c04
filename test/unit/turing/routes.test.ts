/**
 * The Turing-test and feedback routes on a real fastify server on a loopback port, set up as `compactlm serve`
 * sets up its plugins (its error handler, ajv without coercion or removal of extra fields): 200 judges voting at
 * once are all counted, the JSON of GET /v1/turing/next carries no system name or order, bad votes get the API's
 * error shape, the page is served from the repo's files. (The real `compactlm serve --turing-db`:
 * test/e2e/turing.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { feedbackRoutes } from '../../../src/feedback/routes.js';
import { FeedbackStore } from '../../../src/feedback/store.js';
import { sendError, toApiError } from '../../../src/serve/errors.js';
import { turingRoutes } from '../../../src/turing/routes.js';
import { TuringStore } from '../../../src/turing/store.js';

let dir: string;
let app: FastifyInstance;
let url: string;
let store: TuringStore;
let feedback: FeedbackStore;
const ITEMS = 20;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'turing-routes-'));
  store = TuringStore.open(join(dir, 't.sqlite'), { create: true, seed: 2 });
  store.addItems(Array.from({ length: ITEMS }, (_, i) => ({
    prompt: `Question ${i}?`, system_a: 'sys-alpha', answer_a: `first answer to ${i}`, system_b: 'human', answer_b: `second answer to ${i}`,
  })));
  feedback = FeedbackStore.open(join(dir, 'f.sqlite'), { create: true });
  app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true } } });
  app.setErrorHandler((err, _req, reply) => sendError(reply, toApiError(err)));
  await app.register(async (scope) => turingRoutes(scope, { store }));
  await app.register(async (scope) => feedbackRoutes(scope, { store: feedback }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  store.close();
  feedback.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('Turing routes', () => {
  test('200 judges at once: every vote is counted, each on its own presentation', async () => {
    const before = store.counts().votes;
    const judges = Array.from({ length: 200 }, async (_, i) => {
      const next = await fetch(`${url}/v1/turing/next?judge=j${i}`);
      expect(next.status).toBe(200);
      const p = (await next.json()) as { item_id: string };
      const vote = await post('/v1/turing/vote', { item_id: p.item_id, choice: ['A', 'B', 'tie', 'bad'][i % 4], human_guess: i % 3 === 0 ? null : 'A' });
      expect(vote.status).toBe(200);
      expect(await vote.json()).toEqual({ ok: true });
      return p.item_id;
    });
    const ids = await Promise.all(judges);
    expect(new Set(ids).size).toBe(200);
    expect(store.counts().votes - before).toBe(200);
    // 200 votes over 20 items, fewest-first: 10 each
    const perItem = store.db.prepare('SELECT count(*) AS n FROM votes GROUP BY item_id').all() as { n: number }[];
    expect(perItem.map((r) => r.n)).toEqual(new Array(ITEMS).fill(10));
  });

  test('GET /v1/turing/next: exactly item_id, prompt, answers {A, B}; nothing names a system or the order', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${url}/v1/turing/next`);
      const text = await res.text();
      expect(Object.keys(JSON.parse(text)).sort()).toEqual(['answers', 'item_id', 'prompt']);
      expect(text).not.toMatch(/sys-alpha|human|system|swap|shown/i);
      expect(JSON.stringify([...res.headers])).not.toMatch(/sys-alpha|human/i);
    }
  });

  test('votes that do not fit: the API error shape, nothing stored', async () => {
    const before = store.counts().votes;
    const p = (await (await fetch(`${url}/v1/turing/next`)).json()) as { item_id: string };
    const cases: [unknown, number, string][] = [
      [{ item_id: p.item_id, choice: 'C' }, 400, 'invalid_request'],
      [{ item_id: p.item_id }, 400, 'invalid_request'],
      [{ item_id: p.item_id, choice: 'A', human_guess: 'both' }, 400, 'invalid_request'],
      [{ item_id: p.item_id, choice: 'A', system: 'human' }, 400, 'invalid_request'],
      [{ item_id: 'nope', choice: 'A' }, 404, 'unknown_item'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('/v1/turing/vote', body);
      expect(res.status).toBe(status);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(Object.keys(json)).toEqual(['error']);
      expect(json.error.code).toBe(code);
    }
    expect(store.counts().votes).toBe(before);
    expect((await post('/v1/turing/vote', { item_id: p.item_id, choice: 'A', human_guess: null })).status).toBe(200);
    const twice = await post('/v1/turing/vote', { item_id: p.item_id, choice: 'B' });
    expect(twice.status).toBe(409);
    expect(((await twice.json()) as { error: { code: string } }).error.code).toBe('already_voted');
  });

  test('a judge who voted on every item: 404 no_items', async () => {
    for (let i = 0; i < ITEMS; i++) {
      const p = (await (await fetch(`${url}/v1/turing/next?judge=everything`)).json()) as { item_id: string };
      await post('/v1/turing/vote', { item_id: p.item_id, choice: 'tie' });
    }
    const res = await fetch(`${url}/v1/turing/next?judge=everything`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'no_items', message: 'no item left that this judge has not voted on' } });
    expect((await fetch(`${url}/v1/turing/next?judge=${encodeURIComponent('<script>')}`)).status).toBe(400);
  });

  test('GET /turing serves the page and its files from src/turing/page/, with no other origin', async () => {
    const page = await fetch(`${url}/turing`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toBe(readFileSync(new URL('../../../src/turing/page/index.html', import.meta.url), 'utf8'));
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    for (const [file, type] of [['turing.css', 'text/css'], ['turing.js', 'text/javascript']]) {
      const res = await fetch(`${url}/turing/${file}`);
      expect(res.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect(await res.text()).not.toMatch(/https?:\/\//);
    }
  });
});

describe('POST /v1/feedback', () => {
  test('appends a record; the body is checked', async () => {
    const res = await post('/v1/feedback', { task: 'classify', inputs: 'great phone', output: { label: '1', score: 0.9 }, label: '1', rating: 5 });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: number };
    expect(feedback.list('classify').find((r) => r.id === id)).toMatchObject({ inputs: 'great phone', output: { label: '1', score: 0.9 }, label: '1', rating: 5 });
    for (const body of [{ task: 'classify', inputs: 'x' }, { task: 'classify', inputs: 'x', output: 'y', rating: 9 }, { task: '', inputs: 'x', output: 'y' },
      { task: 'classify', inputs: null, output: 'y' }, { task: 'classify', inputs: 'x', output: 'y', extra: 1 }]) {
      const bad = await post('/v1/feedback', body);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    expect(feedback.count()).toBe(1);
  });

  test('without a store (feedback off): 404 not_available', async () => {
    const off = Fastify();
    off.setErrorHandler((err, _req, reply) => sendError(reply, toApiError(err)));
    await off.register(async (scope) => feedbackRoutes(scope, { store: null }));
    const offUrl = await off.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${offUrl}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'classify', inputs: 'x', output: 'y' }) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_available', message: 'feedback is off on this server (start it with --feedback-db <file>)' } });
    await off.close();
  });
});
