/**
 * The error shape and the mapping of every error to it: ajv's validation errors name the field, fastify's body
 * errors get their status (400 bad JSON, 413 too large), an ApiError passes through, anything else is a 500 whose
 * message carries nothing of the error (no stack, no internals).
 */
import { apiError, toApiError, validationMessage } from '../../../src/serve/errors.js';

describe('toApiError', () => {
  test('validation errors name the field and the problem', () => {
    expect(validationMessage('body', [{ instancePath: '', keyword: 'required', params: { missingProperty: 'inputs' } }])).toBe('body.inputs: required');
    expect(validationMessage('body', [{ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'topk' } }])).toBe('body.topk: unknown field');
    expect(validationMessage('body', [{ instancePath: '/inputs', keyword: 'type', params: { type: ['string', 'array'] } }])).toBe('body.inputs: must be string or array');
    expect(validationMessage('body', [{ instancePath: '/inputs/3', keyword: 'type', params: { type: 'string' } }])).toBe('body.inputs[3]: must be string');
    expect(validationMessage('body', [{ instancePath: '/history/0/role', keyword: 'enum', params: {}, message: 'must be equal to one of the allowed values' }]))
      .toBe('body.history[0].role: must be equal to one of the allowed values');
    const e = toApiError({ validation: [{ instancePath: '/top_k', keyword: 'minimum', params: {}, message: 'must be >= 1' }], validationContext: 'body' });
    expect([e.status, e.code, e.message]).toEqual([400, 'invalid_request', 'body.top_k: must be >= 1']);
  });

  test("fastify's body errors: bad or empty JSON and another content type are 400, a large body 413", () => {
    const codes = (code: string) => { const e = toApiError({ code, statusCode: 400, message: 'x' }, { bodyLimit: 1024 }); return [e.status, e.code, e.message]; };
    expect(codes('FST_ERR_CTP_INVALID_JSON_BODY')).toEqual([400, 'invalid_json', 'body: not valid JSON']);
    expect(codes('FST_ERR_CTP_EMPTY_JSON_BODY')).toEqual([400, 'invalid_json', 'body: empty (send a JSON object)']);
    expect(codes('FST_ERR_CTP_INVALID_MEDIA_TYPE')).toEqual([400, 'invalid_json', 'body: content-type must be application/json']);
    expect(codes('FST_ERR_CTP_BODY_TOO_LARGE')).toEqual([413, 'body_too_large', "body: larger than 1024 bytes (the server's limit)"]);
  });

  test('an ApiError passes through; anything else is a 500 that says nothing of its cause', () => {
    const mine = apiError(422, 'no_mask', 'inputs: no [MASK]');
    expect(toApiError(mine)).toBe(mine);
    const secret = new Error('ENOENT /secret/path/model.onnx');
    const e = toApiError(secret);
    expect([e.status, e.code]).toEqual([500, 'internal']);
    expect(JSON.stringify(e.body)).not.toContain('secret');
    expect(e.body).toEqual({ error: { code: 'internal', message: 'internal error (the server log has the details)' } });
  });
});
