// Time, timers, abort linking and backoff: the small runtime every loop of the client shares.

import { parseDuration } from "@switchboard/wire";
import type { Duration, RetryOptions, Timers } from "./types.js";

export interface Runtime {
  readonly timers: Timers;
  readonly now: () => number;
  readonly random: () => number;
}

export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};

/**
 * Milliseconds of a duration in the server's own grammar (one parser, from @switchboard/wire):
 * seconds as a number, or "500ms", "30s", "5m", "1h", "1m30s". Throws a RangeError (DurationError).
 */
export function durationMs(d: Duration): number {
  return parseDuration(d);
}

/**
 * Abort `child` when `parent` aborts. Returns the function that removes the link; call it when the
 * child's work is over so that a long-lived parent does not collect one listener per request.
 */
export function linkAbort(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => {};
  }
  const onAbort = (): void => child.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  return () => parent.removeEventListener("abort", onAbort);
}

/**
 * One abort listener on a long-lived signal for any number of linked controllers: linking each call
 * with its own listener would pass Node's MaxListeners threshold (11+ concurrent calls) and warn.
 */
export class AbortFanout {
  private readonly children = new Set<AbortController>();

  constructor(private readonly parent: AbortSignal) {
    parent.addEventListener(
      "abort",
      () => {
        for (const c of this.children) c.abort(parent.reason);
        this.children.clear();
      },
      { once: true },
    );
  }

  /** Aborts `child` when the parent aborts; returns the function that unlinks it. */
  link(child: AbortController): () => void {
    if (this.parent.aborted) {
      child.abort(this.parent.reason);
      return () => {};
    }
    this.children.add(child);
    return () => this.children.delete(child);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects); always clears its timer. */
export function sleep(rt: Runtime, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      rt.timers.clearTimeout(handle);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const handle = rt.timers.setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Capped exponential backoff with full jitter: the n-th delay is uniform in [0, min(max, initial·2ⁿ)). */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(
    options: RetryOptions | undefined,
    private readonly random: () => number,
  ) {
    this.initialMs = options?.initialMs ?? 250;
    this.maxMs = options?.maxMs ?? 30_000;
  }

  /** The next delay; `atLeastMs` honours a server's Retry-After. */
  next(atLeastMs = 0): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.max(atLeastMs, Math.floor(this.random() * ceiling));
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

/**
 * A wake-up latch for loops: `wait()` resolves at the next `wake()` (or at once if a wake-up came since the
 * last wait). Holds no timer.
 */
export class Latch {
  private pending = false;
  private resolve: (() => void) | undefined;

  wake(): void {
    if (this.resolve) {
      const r = this.resolve;
      this.resolve = undefined;
      r();
    } else {
      this.pending = true;
    }
  }

  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
}

/**
 * Keeps a long-poll loop from spinning when the server keeps answering at once without progress (an
 * empty server answers index 0 at once; a resync that does not move the index). One such answer is
 * normal; from the second in a row on, the loop pauses for a jittered, doubling delay of at most 1 s.
 */
export class SpinGuard {
  private streak = 0;

  constructor(
    private readonly initialMs: number,
    private readonly random: () => number,
  ) {}

  /** The pause to take after an answer; 0 when it made progress or was held for a while. */
  pause(progress: boolean, quick: boolean): number {
    if (progress || !quick) {
      this.streak = 0;
      return 0;
    }
    this.streak += 1;
    if (this.streak < 2) return 0;
    const ceiling = Math.min(1000, this.initialMs * 2 ** Math.min(this.streak - 2, 20));
    return Math.floor(ceiling * (0.5 + this.random() / 2));
  }
}
