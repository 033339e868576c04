/**
 * POST /v1/summarize — extractive summaries (src/summarize/summarizer.ts): `{"inputs": "<document>",
 * "sentences"?: 3 | "ratio"?: 0.2, "method"?: "centroid" | "lead" | "trained"}` → `{summary, method, sentences:
 * [{index, text, start, end, score}], num_sentences}`, as `compactlm summarize --json` prints it (`start`/`end`
 * are offsets in the document, so a page can highlight the chosen sentences). Documents are limited to
 * MAX_SUMMARY_SENTENCES sentences (413): the cost of a summary grows with them.
 */
import type { FastifyInstance } from 'fastify';
import { splitSentences } from '../../summarize/sentences.js';
import { SUMMARY_METHODS, type SummaryMethod } from '../../summarize/summarizer.js';
import { apiError } from '../errors.js';
import type { ServeContext } from '../server.js';
import { answer, runJobs, taskBody, taskSchema, textsOf, type TaskBody } from './task-route.js';

export const MAX_SUMMARY_SENTENCES = 500;

export const SUMMARY_RESULT = {
  type: 'object',
  properties: {
    summary: { type: 'string', description: 'the chosen sentences in document order, one per line' },
    method: { type: 'string' },
    sentences: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, text: { type: 'string' }, start: { type: 'integer' }, end: { type: 'integer' }, score: { type: 'number' } },
      },
    },
    num_sentences: { type: 'integer' },
  },
};

interface Body extends TaskBody {
  sentences?: number;
  ratio?: number;
  method?: SummaryMethod;
}

export function summarizeRoute(app: FastifyInstance, ctx: ServeContext): void {
  const body = taskBody({
    sentences: { type: 'integer', minimum: 1, maximum: MAX_SUMMARY_SENTENCES, description: 'sentences to keep (default 3)' },
    ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'or: this share of the document\'s sentences' },
    method: { type: 'string', enum: [...SUMMARY_METHODS], description: 'default: trained for an extractive fine-tuned folder, else centroid' },
  });
  app.post('/v1/summarize', { schema: taskSchema('Extractive summaries', body, SUMMARY_RESULT) }, async (req, reply) => {
    const { inputs, sentences, ratio, method } = req.body as Body;
    if (sentences !== undefined && ratio !== undefined) throw apiError(400, 'invalid_request', 'body: give either sentences or ratio, not both');
    const model = ctx.models.forTask('summarize', (req.body as Body).model);
    const options = { ...(sentences !== undefined ? { sentences } : {}), ...(ratio !== undefined ? { ratio } : {}), ...(method !== undefined ? { method } : {}) };
    const jobs = textsOf(inputs, ctx.settings.maxInputs).map(({ text, field }) => {
      const n = splitSentences(text).length;
      if (n > MAX_SUMMARY_SENTENCES) {
        throw apiError(413, 'input_too_long', `${field}: ${n} sentences, more than this server's limit of ${MAX_SUMMARY_SENTENCES} per document: send a shorter one`);
      }
      return { task: 'summarize' as const, text, options };
    });
    return answer(inputs, await runJobs(ctx, model, jobs, reply));
  });
}
