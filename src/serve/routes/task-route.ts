/**
 * What every task route (POST /v1/<task>) shares: the request's common fields, the one-or-many answer, and running
 * jobs under the per-request timeout.
 *
 * Request: `{"model"?: name, "inputs": string | string[], …task options}`. Response: for a string, the result as
 * `compactlm infer … --json` prints it; for an array, an array of them in order.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Encoded } from '../../infer/batches.js';
import { UserError } from '../../util/errors.js';
import { apiError, ERROR_SCHEMA } from '../errors.js';
import type { ServedModel } from '../models.js';
import type { ServeContext } from '../server.js';
import type { Job } from '../worker.js';

export const MODEL_FIELD = {
  type: 'string', minLength: 1,
  description: 'a model name from GET /v1/models (default: the first loaded model that does the task)',
} as const;

export const INPUTS_FIELD = {
  type: ['string', 'array'], items: { type: 'string' }, minItems: 1,
  description: 'one text, or several (answered as an array, in order)',
} as const;

/** The body schema of a task route: model, inputs, plus the task's own options. */
export function taskBody(options: Record<string, object> = {}, inputs: object = INPUTS_FIELD): object {
  return {
    type: 'object',
    required: ['inputs'],
    additionalProperties: false,
    properties: { model: MODEL_FIELD, inputs, ...options },
  };
}

/** The route's schema: body, the result (one, or an array of them) and the error responses. */
export function taskSchema(summary: string, body: object, result: object): object {
  const error = { ...ERROR_SCHEMA, description: '{"error": {"code", "message"}}' };
  return {
    summary,
    body,
    response: {
      200: { anyOf: [result, { type: 'array', items: result }] },
      400: error, 401: error, 404: error, 413: error, 422: error, 429: error, 503: error,
    },
  };
}

/** The texts of `inputs`, each with the field name errors use ("inputs", or "inputs[3]"). */
export function textsOf(inputs: string | string[], maxInputs: number): { text: string; field: string }[] {
  if (typeof inputs === 'string') return [{ text: inputs, field: 'inputs' }];
  if (inputs.length > maxInputs) {
    throw apiError(413, 'too_many_inputs', `inputs: ${inputs.length} texts, more than this server's limit of ${maxInputs} per request: send them in several requests`);
  }
  return inputs.map((text, i) => ({ text, field: `inputs[${i}]` }));
}

/** One result for a string input, the array for an array. */
export function answer<R>(inputs: string | string[], results: R[]): R | R[] {
  return typeof inputs === 'string' ? results[0] : results;
}

/**
 * Runs the jobs on the model within the server's per-request timeout; a client that hangs up takes its rows out
 * of the queue. A library's UserError (the input cannot be processed) is a 422.
 */
export async function runJobs(ctx: ServeContext, model: ServedModel, jobs: Job[], reply: FastifyReply): Promise<unknown[]> {
  const gone = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) gone.abort(apiError(499, 'client_closed', 'the client closed the connection'));
  };
  reply.raw.once('close', onClose);
  const timeout = AbortSignal.timeout(ctx.settings.timeoutMs);
  try {
    return await model.run(jobs, AbortSignal.any([timeout, gone.signal]));
  } catch (e) {
    if (timeout.aborted && e === timeout.reason) {
      throw apiError(503, 'timeout', `the request took longer than ${ctx.settings.timeoutMs} ms (the server's --timeout-ms): retry, or send fewer inputs`, { 'retry-after': '1' });
    }
    if (e instanceof UserError) throw apiError(422, 'invalid_input', e.message);
    if (!model.worker.alive) throw apiError(503, 'not_ready', `model ${model.name}: its inference worker stopped: the server must be restarted`);
    throw e;
  } finally {
    reply.raw.off('close', onClose);
  }
}

export interface TaskBody {
  model?: string;
  inputs: string | string[];
}

export interface RowTaskRoute<B extends TaskBody> {
  url: string;
  task: 'fill-mask' | 'embed' | 'classify';
  summary: string;
  /** JSON schema of one result. */
  result: object;
  /** The task's own body fields. */
  options?: Record<string, object>;
  /** The job of one encoded input. */
  job(row: Encoded, body: B): Job;
}

/** A route whose inputs are encoded texts batched into ONNX Runtime runs (fill-mask, embed, classify). */
export function rowTaskRoute<B extends TaskBody>(app: FastifyInstance, ctx: ServeContext, r: RowTaskRoute<B>): void {
  app.post(r.url, { schema: taskSchema(r.summary, taskBody(r.options), r.result) }, async (req, reply) => {
    const body = req.body as B;
    const model = ctx.models.forTask(r.task, body.model);
    const jobs = textsOf(body.inputs, ctx.settings.maxInputs).map(({ text, field }) => r.job(model.encode(text, r.task, field), body));
    return answer(body.inputs, await runJobs(ctx, model, jobs, reply));
  });
}
