/**
 * API keys and the open-host rule: Bearer and x-api-key headers, several keys (rotation), wrong and missing keys,
 * keys from flags or the environment (comma-separated), and which hosts count as loopback.
 */
import { ApiKeys, apiKeysFrom, isLoopback, refuseOpenHost } from '../../../src/serve/auth.js';

describe('ApiKeys', () => {
  const keys = new ApiKeys(['old-key-0123456789', 'new-key-9876543210']);

  test('a request carries its key as "Authorization: Bearer <key>" (any case of Bearer) or as x-api-key', () => {
    expect(ApiKeys.fromHeaders({ authorization: 'Bearer abc' })).toBe('abc');
    expect(ApiKeys.fromHeaders({ authorization: 'bearer   abc  ' })).toBe('abc');
    expect(ApiKeys.fromHeaders({ 'x-api-key': 'xyz' })).toBe('xyz');
    expect(ApiKeys.fromHeaders({ authorization: 'Basic dXNlcjpwdw==', 'x-api-key': 'xyz' })).toBe('xyz');
    expect(ApiKeys.fromHeaders({ authorization: 'Basic dXNlcjpwdw==' })).toBeUndefined();
    expect(ApiKeys.fromHeaders({})).toBeUndefined();
  });

  test('every configured key is accepted (its index names it for the rate limit); others, prefixes and none are not', () => {
    expect(keys.enabled).toBe(true);
    expect(keys.indexOf('old-key-0123456789')).toBe(0);
    expect(keys.indexOf('new-key-9876543210')).toBe(1);
    expect(keys.indexOf('old-key-012345678')).toBe(-1);
    expect(keys.indexOf('old-key-0123456789x')).toBe(-1);
    expect(keys.indexOf('')).toBe(-1);
    expect(keys.indexOf(undefined)).toBe(-1);
    expect(new ApiKeys([]).enabled).toBe(false);
  });

  test('keys come from --api-key flags, else from COMPACTLM_API_KEY (comma-separated, blanks dropped)', () => {
    expect(apiKeysFrom(['a', 'b'], 'c,d')).toEqual(['a', 'b']);
    expect(apiKeysFrom([], ' c , d ,')).toEqual(['c', 'd']);
    expect(apiKeysFrom([], undefined)).toEqual([]);
    expect(apiKeysFrom([], '')).toEqual([]);
  });
});

describe('binding without a key', () => {
  test('loopback addresses are 127.0.0.0/8, ::1 and localhost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1', '::ffff:10.0.0.1']) expect(isLoopback(h)).toBe(false);
  });

  test('a non-loopback host without a key is refused with one line saying why and what to do', () => {
    expect(refuseOpenHost('127.0.0.1', [])).toBeNull();
    expect(refuseOpenHost('0.0.0.0', ['k'])).toBeNull();
    const why = refuseOpenHost('0.0.0.0', []);
    expect(why).toBe('--host 0.0.0.0 is not a loopback address and no API key is set: anyone on the network could use the server; ' +
      'set --api-key <key> or COMPACTLM_API_KEY, or serve on 127.0.0.1');
  });
});
