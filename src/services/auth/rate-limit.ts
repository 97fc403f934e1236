// Token buckets per key (a token id or a client address), with an injected clock and a bounded key table.

import { SwitchboardError } from "../../core/index.js";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * `rate` actions per second with bursts of `burst`, per key. The table keeps at most `maxKeys`
 * buckets (the oldest is dropped first), so a flood of distinct addresses cannot grow it.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(options: { rate: number; burst?: number; now: () => number; maxKeys?: number }) {
    this.#rate = options.rate;
    this.#burst = options.burst ?? options.rate * 2;
    this.#now = options.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** Takes `cost` from each key's bucket, all or nothing; throws RATE_LIMITED with the wait when one is short. */
  take(keys: readonly string[], cost = 1): void {
    if (!this.enabled) return;
    const now = this.#now();
    const buckets = keys.map((k) => this.#refill(k, now));
    const short = buckets.find((b) => b.tokens < cost);
    if (short) {
      const waitS = Math.max(1, Math.ceil((cost - short.tokens) / this.#rate));
      throw new SwitchboardError("RATE_LIMITED", `too many requests; retry in ${waitS} s`, { retryAfter: waitS });
    }
    for (const b of buckets) b.tokens -= cost;
  }

  /** Whether `key` has at least `cost` left right now (takes nothing). */
  has(key: string, cost = 1): boolean {
    if (!this.enabled) return true;
    return this.#refill(key, this.#now()).tokens >= cost;
  }

  #refill(key: string, now: number): Bucket {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
    b.at = now;
    return b;
  }
}
