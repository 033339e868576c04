/**
 * The token bucket, on a fake clock: a burst passes, the next request is refused with the whole seconds until a
 * token is back (Retry-After), tokens refill at the rate, keys are independent, and full buckets are swept.
 */
import { RateLimiter } from '../../../src/serve/rate-limit.js';

describe('RateLimiter', () => {
  test('burst, refusal with Retry-After, refill at the rate', () => {
    let now = 0;
    const rl = new RateLimiter(2, 4, () => now); // 2 per second, bursts of 4
    for (let i = 0; i < 4; i++) expect(rl.take('k')).toEqual({ ok: true });
    expect(rl.take('k')).toEqual({ ok: false, retryAfterSeconds: 1 }); // 1 token takes 0.5 s: rounded up to 1 s
    now = 499;
    expect(rl.take('k').ok).toBe(false);
    now = 500;
    expect(rl.take('k')).toEqual({ ok: true });
    now = 10_000; // long idle: the bucket is full again, not more
    for (let i = 0; i < 4; i++) expect(rl.take('k').ok).toBe(true);
    expect(rl.take('k').ok).toBe(false);
  });

  test('a slow rate answers a longer Retry-After', () => {
    const rl = new RateLimiter(0.1, 1, () => 0); // one request per 10 s
    expect(rl.take('k').ok).toBe(true);
    expect(rl.take('k')).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  test('each key has its own bucket', () => {
    const rl = new RateLimiter(1, 1, () => 0);
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('b').ok).toBe(true);
  });

  test('full buckets are dropped when the table grows (memory stays bounded)', () => {
    let now = 0;
    const rl = new RateLimiter(100, 1, () => now);
    for (let i = 0; i < 10_000; i++) rl.take(`ip:${i}`);
    expect(rl.size).toBe(10_000);
    now = 1000; // all refilled
    rl.take('one more');
    expect(rl.size).toBe(1);
  });
});
