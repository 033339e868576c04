/**
 * POST /v1/chat — the FAQ chatbot (src/chat/bot.ts): `{"inputs": "how do I send a lamp back?", "history"?:
 * [{"role": "user" | "bot", "text": "…"}]}` → `{answer, source, score, fallback, alternatives}`, as
 * `compactlm chat --json` prints it. Needs a masked LM and `serve --faq <csv>` (404 not_available otherwise).
 * The server keeps no conversation: the client sends the turns so far (oldest first) with each message.
 */
import type { FastifyInstance } from 'fastify';
import type { ChatTurn } from '../../chat/bot.js';
import type { ServeContext } from '../server.js';
import { answer, runJobs, taskBody, taskSchema, textsOf, type TaskBody } from './task-route.js';

export const MAX_HISTORY_TURNS = 50;

const TURN = {
  type: 'object', required: ['role', 'text'], additionalProperties: false,
  properties: { role: { type: 'string', enum: ['user', 'bot'] }, text: { type: 'string' } },
};

const ALTERNATIVE = {
  type: 'object',
  properties: { answer: { type: 'string' }, score: { type: 'number' }, row: { type: 'integer' }, question: { type: 'string' }, intent: { type: 'string' } },
};

export const CHAT_RESULT = {
  type: 'object',
  properties: {
    answer: { type: 'string' },
    source: { type: 'object', properties: { row: { type: 'integer' }, question: { type: 'string' }, intent: { type: 'string' } } },
    score: { type: 'number', description: 'cosine similarity of the message to the FAQ question answered' },
    fallback: { type: 'boolean', description: 'true when the bot was unsure (score below its threshold)' },
    alternatives: { type: 'array', items: ALTERNATIVE },
  },
};

interface Body extends TaskBody {
  history?: ChatTurn[];
}

export function chatRoute(app: FastifyInstance, ctx: ServeContext): void {
  const body = taskBody({ history: { type: 'array', items: TURN, maxItems: MAX_HISTORY_TURNS, description: 'the conversation so far, oldest first' } });
  app.post('/v1/chat', { schema: taskSchema('Answer a customer message from the FAQ', body, CHAT_RESULT) }, async (req, reply) => {
    const { inputs, history = [] } = req.body as Body;
    const model = ctx.models.forTask('chat', (req.body as Body).model);
    const jobs = textsOf(inputs, ctx.settings.maxInputs).map(({ text, field }) => {
      model.encode(text, 'chat', field); // the token limit, as for every other text
      return { task: 'chat' as const, message: text, history };
    });
    return answer(inputs, await runJobs(ctx, model, jobs, reply));
  });
}
