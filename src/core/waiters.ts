// Waiters indexed by register name and by prefix, so that a change wakes only those that watch it.

import type { SwitchboardEvent } from "./types.js";
import type { Where } from "./where.js";

export type WaitOutcome =
  | { readonly reason: "change"; readonly event: SwitchboardEvent; readonly changedAt: number }
  | { readonly reason: "timeout" }
  | { readonly reason: "aborted" }
  | { readonly reason: "closed" };

export interface Waiter {
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
  /** Settled by a change only when the change matches (conditional wakes). */
  readonly where?: Where;
  /**
   * Leaves the indexes and the deadline wheel. True the first time only: whoever detaches the
   * waiter (a change, the deadline, the holder, shutdown) is the one that delivers its outcome.
   */
  detach(): boolean;
  /**
   * The first half of detach: marks the waiter settled (true the first time only) and leaves the
   * cleanup (the other index entries, the deadline) to deliver(). For a wake of thousands, whose
   * sets were taken out of the index whole.
   */
  claim(): boolean;
  /** Tells the holder the outcome (after detach or claim); finishes a claim's cleanup first. */
  deliver(outcome: WaitOutcome): void;
}

/** Detaches and delivers at once (when nothing is to be batched). */
export function settle(w: Waiter, outcome: WaitOutcome): void {
  if (w.detach()) w.deliver(outcome);
}

/**
 * Lookups cost O(len(name)) map probes at most — only prefix lengths in use are probed — and
 * never a scan of all waiters.
 */
export class WaiterIndex {
  readonly #byName = new Map<string, Set<Waiter>>();
  readonly #byPrefix = new Map<string, Set<Waiter>>();
  /** prefix length -> number of distinct prefixes of that length in the index */
  readonly #prefixLengths = new Map<number, number>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(w: Waiter): void {
    for (const n of w.names) addTo(this.#byName, n, w);
    for (const p of w.prefixes) {
      if (addTo(this.#byPrefix, p, w)) this.#prefixLengths.set(p.length, (this.#prefixLengths.get(p.length) ?? 0) + 1);
    }
    this.#size++;
  }

  remove(w: Waiter): void {
    for (const n of w.names) removeFrom(this.#byName, n, w);
    for (const p of w.prefixes) {
      if (removeFrom(this.#byPrefix, p, w)) {
        const c = (this.#prefixLengths.get(p.length) ?? 1) - 1;
        if (c === 0) this.#prefixLengths.delete(p.length);
        else this.#prefixLengths.set(p.length, c);
      }
    }
    this.#size--;
  }

  /** Every waiter watching `name` (by name or by a prefix of it), each once. */
  match(name: string): Set<Waiter> {
    const out = new Set<Waiter>();
    const direct = this.#byName.get(name);
    if (direct) for (const w of direct) out.add(w);
    for (const len of this.#prefixLengths.keys()) {
      if (len > name.length) continue;
      const set = this.#byPrefix.get(name.slice(0, len));
      if (set) for (const w of set) out.add(w);
    }
    return out;
  }

  /**
   * Every waiter watching `name`, taken out of the sets that matched it in one step (a wake of
   * 10,000 polls on one name drops one set instead of deleting 10,000 entries). The waiters must
   * then be detached (their remove() skips the sets already gone).
   */
  take(name: string): Iterable<Waiter> {
    const direct = this.#byName.get(name);
    if (direct) this.#byName.delete(name);
    let out: Set<Waiter> | undefined;
    for (const len of [...this.#prefixLengths.keys()]) {
      if (len > name.length) continue;
      const key = name.slice(0, len);
      const set = this.#byPrefix.get(key);
      if (!set) continue;
      this.#byPrefix.delete(key);
      const c = (this.#prefixLengths.get(len) ?? 1) - 1;
      if (c === 0) this.#prefixLengths.delete(len);
      else this.#prefixLengths.set(len, c);
      out ??= new Set(direct);
      for (const w of set) out.add(w);
    }
    return out ?? direct ?? [];
  }

  /** Every waiter, for shutdown. */
  all(): Set<Waiter> {
    const out = new Set<Waiter>();
    for (const set of this.#byName.values()) for (const w of set) out.add(w);
    for (const set of this.#byPrefix.values()) for (const w of set) out.add(w);
    return out;
  }
}

/** Returns true when the key was new. */
function addTo(map: Map<string, Set<Waiter>>, key: string, w: Waiter): boolean {
  const set = map.get(key);
  if (set) {
    set.add(w);
    return false;
  }
  map.set(key, new Set([w]));
  return true;
}

/** Returns true when the key is gone. */
function removeFrom(map: Map<string, Set<Waiter>>, key: string, w: Waiter): boolean {
  const set = map.get(key);
  if (!set) return false;
  set.delete(w);
  if (set.size === 0) {
    map.delete(key);
    return true;
  }
  return false;
}

/**
 * One timer for every held wait: deadlines are kept in buckets (a deadline of a wait of 100 ms
 * or more is rounded up to the next BUCKET_MS; shorter ones keep their exact millisecond), and
 * only the earliest bucket has a clock timer. 10,000 polls cost a few hundred buckets and one
 * timer, instead of 10,000 timers.
 */
export class DeadlineWheel<T> {
  static readonly BUCKET_MS = 10;
  readonly #buckets = new Map<number, Set<T>>();
  /** Bucket keys, ascending. */
  readonly #keys: number[] = [];
  #armed: { at: number; handle: unknown } | undefined;

  constructor(
    private readonly clock: {
      now(): number;
      setTimeout(fn: () => void, ms: number): unknown;
      clearTimeout(h: never): void;
    },
    /** Called with the expired items, in one batch per firing. */
    private readonly fire: (due: T[]) => void,
  ) {}

  /** Hands `item` to `fire` once `timeoutMs` has passed; returns the cancel. */
  add(timeoutMs: number, item: T): () => void {
    const deadline = this.clock.now() + timeoutMs;
    const key = timeoutMs < 100 ? deadline : Math.ceil(deadline / DeadlineWheel.BUCKET_MS) * DeadlineWheel.BUCKET_MS;
    let set = this.#buckets.get(key);
    if (!set) {
      set = new Set();
      this.#buckets.set(key, set);
      this.#keys.splice(lowerBound(this.#keys, key), 0, key);
      if (!this.#armed || key < this.#armed.at) this.#arm();
    }
    set.add(item);
    const bucket = set;
    return () => {
      if (!bucket.delete(item) || bucket.size > 0) return;
      this.#buckets.delete(key);
      const at = lowerBound(this.#keys, key);
      if (this.#keys[at] === key) this.#keys.splice(at, 1);
      if (this.#armed?.at === key) this.#arm();
    };
  }

  /** Buckets pending (for tests). */
  get buckets(): number {
    return this.#keys.length;
  }

  /** Drops every deadline and the timer (on close). */
  clear(): void {
    this.#buckets.clear();
    this.#keys.length = 0;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#armed) this.clock.clearTimeout(this.#armed.handle as never);
    this.#armed = undefined;
  }

  #arm(): void {
    this.#disarm();
    const at = this.#keys[0];
    if (at === undefined) return;
    this.#armed = { at, handle: this.clock.setTimeout(() => this.#onTimer(), Math.max(0, at - this.clock.now())) };
  }

  #onTimer(): void {
    this.#armed = undefined;
    const now = this.clock.now();
    const due: T[] = [];
    while (this.#keys.length > 0 && this.#keys[0]! <= now) {
      const key = this.#keys.shift()!;
      const set = this.#buckets.get(key);
      this.#buckets.delete(key);
      if (set) {
        for (const f of set) due.push(f);
        set.clear(); // a cancel after the firing is a no-op
      }
    }
    this.#arm();
    if (due.length > 0) this.fire(due);
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
