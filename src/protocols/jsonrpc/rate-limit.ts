// A per-connection token bucket: `rate` messages per second, bursts up to one second's worth.

export class TokenBucket {
  readonly #rate: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  /** rate 0 = unlimited. */
  constructor(rate: number, now: () => number) {
    this.#rate = rate;
    this.#now = now;
    this.#tokens = rate;
    this.#at = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    if (this.#rate === 0) return true;
    const now = this.#now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whole seconds until a token is back (for `retryAfter`). */
  retryAfterSeconds(): number {
    if (this.#rate === 0) return 0;
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.#rate));
  }
}
