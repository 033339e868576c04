/**
 * POST /v1/fill-mask — the tokens behind each [MASK]: `{"inputs": "Paris is the [MASK] of France.", "top_k"?: 5}`
 * → `{text, tokens, truncated, masks: [{position, predictions: [{token, token_id, score}]}]}`, as
 * `compactlm infer --json` prints it. A text without [MASK] is a 422 `no_mask`.
 */
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../server.js';
import { rowTaskRoute, type TaskBody } from './task-route.js';

const PREDICTION = {
  type: 'object',
  properties: { token: { type: 'string' }, token_id: { type: 'integer' }, score: { type: 'number' } },
};

export const FILL_MASK_RESULT = {
  type: 'object',
  properties: {
    text: { type: 'string' },
    tokens: { type: 'array', items: { type: 'string' } },
    truncated: { type: 'boolean' },
    masks: { type: 'array', items: { type: 'object', properties: { position: { type: 'integer' }, predictions: { type: 'array', items: PREDICTION } } } },
  },
};

export const DEFAULT_TOP_K = 5;

export function fillMaskRoute(app: FastifyInstance, ctx: ServeContext): void {
  rowTaskRoute<TaskBody & { top_k?: number }>(app, ctx, {
    url: '/v1/fill-mask',
    task: 'fill-mask',
    summary: 'Predict the tokens behind each [MASK]',
    result: FILL_MASK_RESULT,
    options: { top_k: { type: 'integer', minimum: 1, maximum: 100, default: DEFAULT_TOP_K, description: 'predictions per [MASK]' } },
    job: (row, body) => ({ task: 'fill-mask', topK: body.top_k ?? DEFAULT_TOP_K, row }),
  });
}
