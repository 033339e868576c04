/**
 * API keys: `--api-key <key>` (repeatable, e.g. an old and a new key while rotating) or COMPACTLM_API_KEY (one key,
 * or several separated by commas). A client sends one as `Authorization: Bearer <key>` or `x-api-key: <key>`.
 *
 * Keys are compared as SHA-256 digests with crypto.timingSafeEqual, against every configured key without stopping
 * early, so neither the time nor the length of a wrong key tells anything. Without any key the API is open — which
 * is only allowed on a loopback address (`refuseOpenHost`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export const API_KEY_ENV = 'COMPACTLM_API_KEY';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** The key a request carries (Bearer token first, then x-api-key), or undefined. */
  static fromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
    const auth = headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m) return m[1].trim();
    }
    const x = headers['x-api-key'];
    return typeof x === 'string' && x !== '' ? x.trim() : undefined;
  }

  /** Which configured key `key` is (its index), or -1; every key is compared, in constant time each. */
  indexOf(key: string | undefined): number {
    if (key === undefined) return -1;
    const d = digest(key);
    let found = -1;
    this.digests.forEach((k, i) => {
      if (timingSafeEqual(d, k)) found = i;
    });
    return found;
  }
}

/** Keys from the flags, else from the environment variable (comma-separated); blanks dropped. */
export function apiKeysFrom(flags: readonly string[], env: string | undefined): string[] {
  const keys = flags.length > 0 ? flags : (env ?? '').split(',');
  return keys.map((k) => k.trim()).filter((k) => k !== '');
}

/** 127.0.0.0/8, ::1 and localhost (an IPv4-mapped 127.x too). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** The reason binding `host` without a key is refused, or null when it is allowed. */
export function refuseOpenHost(host: string, keys: readonly string[]): string | null {
  if (keys.length > 0 || isLoopback(host)) return null;
  return `--host ${host} is not a loopback address and no API key is set: anyone on the network could use the server; ` +
    `set --api-key <key> or ${API_KEY_ENV}, or serve on 127.0.0.1`;
}
