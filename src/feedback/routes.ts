/**
 * POST /v1/feedback (a fastify plugin; `compactlm serve --feedback-db` registers it with a store):
 *
 *   {"task": "classify", "inputs": "great phone", "output": {"label": "1", "score": 0.93}, "label"?: "1", "rating"?: 5}
 *   → 201 {"id": 17}
 *
 * `inputs` and `output` are stored as sent (any JSON); `label` is the right answer, `rating` RATING_MIN (wrong) …
 * RATING_MAX (right). Without a store (no --feedback-db, or --no-feedback) the route answers 404 not_available,
 * so a client learns why instead of guessing, and the server stays stateless.
 */
import type { FastifyPluginAsync } from 'fastify';
import { apiError, ERROR_SCHEMA } from '../serve/errors.js';
import { RATING_MAX, RATING_MIN, type FeedbackRecord, type FeedbackStore } from './store.js';

const error = { ...ERROR_SCHEMA, description: '{"error": {"code", "message"}}' };

const FEEDBACK_SCHEMA = {
  summary: 'Feedback on an answer of the model: the right label and/or a rating, for the next fine-tune',
  body: {
    type: 'object',
    required: ['task', 'inputs', 'output'],
    additionalProperties: false,
    properties: {
      task: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'e.g. classify' },
      inputs: { description: 'what the model was given (as sent to the task route)' },
      output: { description: 'what the model answered' },
      label: { type: ['string', 'null'], minLength: 1, maxLength: 256, description: 'the right answer' },
      rating: { type: ['number', 'null'], minimum: RATING_MIN, maximum: RATING_MAX, description: `${RATING_MIN} = wrong … ${RATING_MAX} = right` },
    },
  },
  response: {
    201: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'integer' } } },
    400: error, 404: error, 413: error,
  },
} as const;

export interface FeedbackRoutesOptions {
  /** null: feedback is off. */
  store: FeedbackStore | null;
}

export const feedbackRoutes: FastifyPluginAsync<FeedbackRoutesOptions> = async (app, { store }) => {
  app.post<{ Body: FeedbackRecord }>('/v1/feedback', { schema: FEEDBACK_SCHEMA }, async (req, reply) => {
    if (!store) throw apiError(404, 'not_available', 'feedback is off on this server (start it with --feedback-db <file>)');
    if (req.body.inputs === null || req.body.inputs === undefined) throw apiError(400, 'invalid_request', 'body.inputs: required (not null)');
    const id = store.add(req.body);
    return reply.code(201).send({ id });
  });
};
