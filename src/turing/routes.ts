/**
 * The Turing-test challenge over HTTP (a fastify plugin; `compactlm serve --turing-db` registers it):
 *
 *   GET  /turing              the judging page (src/turing/page/: plain HTML, CSS and JS, nothing from a CDN)
 *   GET  /v1/turing/next      → {"item_id", "prompt", "answers": {"A": text, "B": text}}   (?judge=<id> optional)
 *   POST /v1/turing/vote      {"item_id", "choice": "A"|"B"|"tie"|"bad", "human_guess": "A"|"B"|null} → {"ok": true}
 *
 * `item_id` is an opaque presentation token (store.ts): it names neither the item nor the order, and the
 * response is built from exactly the three fields (store.ts `present`), so nothing else can slip out. Errors are
 * thrown as the server's `apiError` (src/serve/errors.ts): 404 no_items / unknown_item, 409 already_voted,
 * 410 expired, 400 invalid_request for a body that does not fit the schema.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { apiError, ERROR_SCHEMA } from '../serve/errors.js';
import { CHOICES, type Choice, type Shown, type TuringStore } from './store.js';

/** The page's files, read once when the plugin is registered (from src/turing/page/, next to dist/ in the repo). */
const PAGE_DIR = new URL('../../src/turing/page/', import.meta.url);
const PAGE_FILES = {
  '/turing': ['index.html', 'text/html; charset=utf-8'],
  '/turing/turing.css': ['turing.css', 'text/css; charset=utf-8'],
  '/turing/turing.js': ['turing.js', 'text/javascript; charset=utf-8'],
} as const;

/** Only the page's own files: no inline script, no other origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const JUDGE = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$', description: 'a client-chosen judge id: items this judge voted on are not shown again' } as const;
const error = { ...ERROR_SCHEMA, description: '{"error": {"code", "message"}}' };

const NEXT_SCHEMA = {
  summary: 'An item to judge: a prompt and two anonymous answers in random order',
  querystring: { type: 'object', additionalProperties: false, properties: { judge: JUDGE } },
  response: {
    200: {
      type: 'object',
      required: ['item_id', 'prompt', 'answers'],
      additionalProperties: false,
      properties: {
        item_id: { type: 'string', description: 'opaque: send it back with the vote' },
        prompt: { type: 'string' },
        answers: { type: 'object', required: ['A', 'B'], additionalProperties: false, properties: { A: { type: 'string' }, B: { type: 'string' } } },
      },
    },
    400: error,
    404: error,
  },
} as const;

const VOTE_SCHEMA = {
  summary: 'A judge\'s vote on an item from GET /v1/turing/next',
  body: {
    type: 'object',
    required: ['item_id', 'choice'],
    additionalProperties: false,
    properties: {
      item_id: { type: 'string', minLength: 1, maxLength: 64 },
      choice: { type: 'string', enum: [...CHOICES], description: 'A or B is better, tie, or bad (both answers are bad)' },
      human_guess: { type: ['string', 'null'], enum: ['A', 'B', null], description: 'which answer a person wrote (null: cannot tell)' },
    },
  },
  response: {
    200: { type: 'object', required: ['ok'], additionalProperties: false, properties: { ok: { type: 'boolean' } } },
    400: error, 404: error, 409: error, 410: error,
  },
} as const;

const VOTE_STATUS = { unknown_item: 404, already_voted: 409, expired: 410 } as const;

export interface TuringRoutesOptions {
  store: TuringStore;
}

export const turingRoutes: FastifyPluginAsync<TuringRoutesOptions> = async (app, { store }) => {
  for (const [url, [file, type]] of Object.entries(PAGE_FILES)) {
    const body = readFileSync(new URL(file, PAGE_DIR));
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply.type(type).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(body));
  }

  app.get<{ Querystring: { judge?: string } }>('/v1/turing/next', { schema: NEXT_SCHEMA }, async (req) => {
    const shown = store.next(req.query.judge);
    if (!shown) {
      throw apiError(404, 'no_items', req.query.judge === undefined
        ? 'no items to judge: load some with `compactlm turing import`'
        : 'no item left that this judge has not voted on');
    }
    return shown;
  });

  app.post<{ Body: { item_id: string; choice: Choice; human_guess?: Shown | null } }>('/v1/turing/vote', { schema: VOTE_SCHEMA }, async (req) => {
    const r = store.vote(req.body.item_id, req.body.choice, req.body.human_guess ?? null);
    if (!r.ok) throw apiError(VOTE_STATUS[r.code], r.code, r.message);
    return { ok: true };
  });
};
