/**
 * POST /v1/classify — a fine-tuned classifier's label: `{"inputs": "what a lovely film"}` →
 * `{text, label, score, scores: {label: probability}}`, as `compactlm infer --task classify` prints it.
 */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../server.js';
import { rowTaskRoute } from './task-route.js';

export const CLASSIFY_RESULT = {
  type: 'object',
  properties: {
    text: { type: 'string' },
    label: { type: 'string' },
    score: { type: 'number' },
    scores: { type: 'object', additionalProperties: { type: 'number' } },
  },
};

export function classifyRoute(app: FastifyInstance, ctx: ServeContext): void {
  rowTaskRoute(app, ctx, {
    url: '/v1/classify', task: 'classify', summary: 'Classify texts with a fine-tuned classifier', result: CLASSIFY_RESULT,
    job: (row) => ({ task: 'classify', row }),
  });
}
