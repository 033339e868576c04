/**
 * A token bucket per client key: `ratePerSecond` requests per second on average, bursts up to `burst`.
 *
 *   const limiter = new RateLimiter(20, 40);
 *   const r = limiter.take('key:3fa1…');      // { ok: true } or { ok: false, retryAfterSeconds: 1 }
 *
 * A bucket holds up to `burst` tokens and refills continuously; a request takes one. An empty bucket answers how
 * long until the next token (whole seconds, at least 1: what `Retry-After` carries). Full buckets are dropped when
 * the table grows, so memory stays bounded by the number of clients active within a burst's refill time.
 */
export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full ones are swept. */
const SWEEP_AT = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly ratePerSecond: number, readonly burst: number, private readonly now: () => number = () => performance.now()) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error(`RateLimiter: rate ${ratePerSecond}/s, burst ${burst}`);
  }

  take(key: string): Take {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= SWEEP_AT) this.sweep(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(k);
    }
  }
}
