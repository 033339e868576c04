/**
 * The one error shape of the HTTP API: `{"error": {"code": "...", "message": "..."}}`, never a stack trace.
 *
 *   throw apiError(404, 'model_not_found', 'no model "big"; loaded: mini, sentiment');   // in a route or a hook
 *   sendError(reply, apiError(429, 'rate_limited', '…'), { 'retry-after': '2' });        // from a hook, with headers
 *
 * Plugins (the Turing test, feedback) throw `apiError(...)` too; the server's error handler (server.ts) turns every
 * error — these, fastify's own (bad JSON, schema, body too large) and anything unexpected (500, logged) — into
 * this shape with `toApiError`.
 */
import type { FastifyError, FastifyReply } from 'fastify';

/** Codes a client can branch on; the message says the rest in words. */
export type ErrorCode =
  | 'invalid_json' | 'invalid_request'                              // 400
  | 'unauthorized'                                                  // 401
  | 'not_found' | 'model_not_found' | 'not_available'               // 404
  | 'body_too_large' | 'too_many_inputs' | 'input_too_long'         // 413
  | 'no_mask' | 'unsupported_task'                                  // 422
  | 'rate_limited'                                                  // 429
  | 'internal'                                                      // 500
  | 'not_ready' | 'shutting_down' | 'timeout' | 'overloaded'        // 503
  | (string & {});                                                  // plugins may add their own

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function apiError(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): ApiError {
  return new ApiError(status, code, message, headers);
}

/** Sends `e` as the response (status, headers, body); for hooks that answer before a route runs. */
export function sendError(reply: FastifyReply, e: ApiError, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(e.status).headers({ ...e.headers, ...headers }).send(e.body);
}

/** The JSON schema of an error response (for the OpenAPI document). */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** "body.inputs[0]" from ajv's "/inputs/0". */
function fieldName(context: string, instancePath: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((s, p) => (/^\d+$/.test(p) ? `${s}[${p}]` : `${s}.${p}`), context);
}

/** One line that names the field and what is wrong with it. */
export function validationMessage(context: string, errors: readonly AjvError[]): string {
  const e = errors[0];
  const field = fieldName(context, e.instancePath);
  switch (e.keyword) {
    case 'required': return `${field}.${String(e.params.missingProperty)}: required`;
    case 'additionalProperties': return `${field}.${String(e.params.additionalProperty)}: unknown field`;
    case 'type': {
      const t = e.params.type;
      return `${field}: must be ${Array.isArray(t) ? t.join(' or ') : String(t)}`;
    }
    default: return `${field}: ${e.message ?? e.keyword}`;
  }
}

/** Any error → the ApiError the client sees. `internal` errors carry no detail (the server logs them). */
export function toApiError(err: unknown, o: { bodyLimit?: number } = {}): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (e.validation && e.validation.length > 0) {
    return apiError(400, 'invalid_request', validationMessage(e.validationContext ?? 'body', e.validation));
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return apiError(400, 'invalid_json', 'body: not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return apiError(400, 'invalid_json', 'body: empty (send a JSON object)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return apiError(400, 'invalid_json', `body: content-type must be application/json`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return apiError(413, 'body_too_large', o.bodyLimit === undefined ? 'body: larger than the server allows' : `body: larger than ${o.bodyLimit} bytes (the server's limit)`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return apiError(400, 'invalid_request', 'body: its length does not match content-length');
    default:
      break;
  }
  // Other client errors fastify raises (e.g. a malformed header) keep their 4xx status, without detail.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return apiError(e.statusCode, 'invalid_request', e.message?.split('\n')[0] ?? 'bad request');
  }
  return apiError(500, 'internal', 'internal error (the server log has the details)');
}
